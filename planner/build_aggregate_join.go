package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
)

// joinTypeProbe is the query that learns the types of result columns
// cols of a grouped gateway join computed from aggregates of both of its
// tables (SUM(u.age) + SUM(o.amount)): fields over the whole join with
// WHERE 1 != 1, on any one shard, which answers MySQL's column
// definitions for the expression and no row. Both tables must be in one
// keyspace, where every shard has both.
func joinTypeProbe(sel *ast.SelectStmt, sides [2]*joinSide, fields []*ast.SelectField, cols []int) (engine.TypeProbe, error) {
	ks := sides[0].ref.ks
	if ks == nil || sides[1].ref.ks == nil || ks.Name != sides[1].ref.ks.Name {
		return engine.TypeProbe{}, unsupported("expressions of aggregate functions of tables of several keyspaces over a join across shards")
	}
	q := &ast.SelectStmt{
		Kind:           ast.SelectStmtKindSelect,
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Fields:         &ast.FieldList{Fields: fields},
		From:           sel.From,
		Where:          &ast.BinaryOperationExpr{Op: opcode.NE, L: newValueExpr(int64(1), "", ""), R: newValueExpr(int64(1), "", "")},
	}
	tmpl, err := render(q)
	if err != nil {
		return engine.TypeProbe{}, err
	}
	rt := engine.Routing{Opcode: engine.Unsharded, Keyspace: ks.Name, Table: sides[0].ref.node.Name.O}
	if ks.Sharded {
		rt.Opcode, rt.Sharded = engine.Reference, true // any one shard
	}
	return engine.TypeProbe{Route: &engine.Route{Routing: rt, Query: tmpl}, Cols: cols}, nil
}
