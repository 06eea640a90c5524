package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
)

// Windows over a join evaluated at the gateway: the join's rows are the
// window's input. The join is planned as usual with each window function
// replaced by NULL and the windows' columns (arguments, PARTITION BY,
// ORDER BY, their weight_strings) added to its select list; engine.Window
// computes over the joined rows. The window columns' fields come from a
// type probe (the statement's windows over the same FROM, `WHERE 1 != 1`,
// on one shard), so their types are MariaDB's.

// joinedWindowInput plans the join a window reads and its type probe.
func (b *builder) joinedWindowInput(w *windowPlan, windowAt map[int]bool) (engine.Primitive, *engine.TypeProbe, error) {
	sel := w.sel
	if w.starAt >= 0 {
		return nil, nil, unsupported("* beside window functions over a join across shards")
	}
	tables := collectTables(sel.From)
	if len(tables) == 0 {
		return nil, nil, errInternal("window over a join without tables")
	}
	var ks string
	sharded := false
	for _, tn := range tables {
		ref, err := b.resolveTable(tn)
		if err != nil {
			return nil, nil, err
		}
		if ref.ks == nil || (ks != "" && ref.ks.Name != ks) {
			return nil, nil, unsupported("window functions over a join of several keyspaces")
		}
		ks, sharded = ref.ks.Name, ref.ks.Sharded
	}
	fields := sel.Fields.Fields[:w.visible]
	var probeFields []*ast.SelectField
	var cols []int
	inner := make([]*ast.SelectField, 0, len(fields)+len(w.hidden))
	for i, f := range fields {
		if _, ok := windowAt[i]; ok {
			probeFields = append(probeFields, &ast.SelectField{Expr: f.Expr, AsName: f.AsName})
			cols = append(cols, i)
			f = &ast.SelectField{Expr: newValueExpr(nil, "", ""), AsName: f.AsName}
		}
		inner = append(inner, f)
	}
	for h, f := range w.hidden {
		if _, ok := unparen(f.Expr).(*ast.WindowFuncExpr); ok {
			probeFields = append(probeFields, &ast.SelectField{Expr: f.Expr})
			cols = append(cols, w.visible+h)
			f = &ast.SelectField{Expr: newValueExpr(nil, "", "")}
		}
		inner = append(inner, f)
	}
	probe := &ast.SelectStmt{
		Kind:           ast.SelectStmtKindSelect,
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Fields:         &ast.FieldList{Fields: probeFields},
		From:           sel.From,
		Where:          &ast.BinaryOperationExpr{Op: opcode.NE, L: newValueExpr(int64(1), "", ""), R: newValueExpr(int64(1), "", "")},
		WindowSpecs:    sel.WindowSpecs,
	}
	tmpl, err := render(probe)
	if err != nil {
		return nil, nil, err
	}
	rt := engine.Routing{Opcode: engine.Reference, Keyspace: ks, Sharded: sharded, Table: tables[0].Name.O}
	tp := &engine.TypeProbe{Route: &engine.Route{Routing: rt, Query: tmpl}, Cols: cols}
	sel.Fields.Fields = inner
	sel.WindowSpecs = nil
	if findNode(sel.Fields, isWindowFunc) {
		// The join must not plan windows again (it would come back here).
		return nil, nil, errInternal("window function left in the input of a window over a join")
	}
	in, err := b.gatewayJoin(sel)
	return in, tp, err
}
