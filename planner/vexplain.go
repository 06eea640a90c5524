package planner

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardgate/shardgate/engine"
)

// What VEXPLAIN (on the gateway) and `shardctl explain` (offline) share
// and needs the AST: an offline VCursor that answers with no rows, and the
// KEYS analysis. The VCursor wrapper that records every shard query a plan
// sends is engine.Recorder.

// binaryCharset is the "binary" character set number, given to the
// offline answers' numeric columns.
const binaryCharset = 63

// OfflineVCursor plans and "executes" with no servers: shards come from a
// fixed map, every SELECT answers with its columns and no rows (so a scalar
// aggregate still shows its one row), every write affects nothing.
type OfflineVCursor struct {
	ShardMap map[string][]engine.ShardRange
	// Columns, if set, gives the column types of tables (from a schema
	// file) for the fields of offline results; plain BIGINT otherwise.
	Columns map[string]map[string]byte
}

var _ engine.VCursor = (*OfflineVCursor)(nil)

// Shards implements VCursor.
func (o *OfflineVCursor) Shards(_ context.Context, keyspace string) ([]engine.ShardRange, error) {
	ss, ok := o.ShardMap[keyspace]
	if !ok {
		return nil, errBadDB(keyspace)
	}
	return ss, nil
}

// ExecuteMulti implements VCursor.
func (o *OfflineVCursor) ExecuteMulti(_ context.Context, _ string, shards []string, queries []string) ([]*engine.Result, error) {
	out := make([]*engine.Result, len(shards))
	for i := range shards {
		out[i] = o.result(queries[i])
	}
	return out, nil
}

// StreamMulti implements VCursor.
func (o *OfflineVCursor) StreamMulti(_ context.Context, _ string, shards []string, queries []string, fn func(int, *engine.Result) error) error {
	for i := range shards {
		if err := fn(i, &engine.Result{Fields: o.result(queries[i]).Fields}); err != nil {
			return err
		}
	}
	return nil
}

// AutoAddTable implements VCursor.
func (o *OfflineVCursor) AutoAddTable(context.Context, string, string, string) (string, error) {
	return "", nil
}

// AddWarning implements VCursor.
func (o *OfflineVCursor) AddWarning(uint16, string) {}

// Session implements VCursor: offline there is no session, so the
// primitives that answer from one refuse to run.
func (o *OfflineVCursor) Session() engine.SessionActions { return nil }

// NextSequenceValues pretends every sequence starts at 1: offline plans show
// where generated ids go, not which ids a live sequence would give.
func (o *OfflineVCursor) NextSequenceValues(context.Context, string, string, int64) (int64, error) {
	return 1, nil
}

// result makes the empty answer to a shard query: one field per select
// column, typed from Columns where the column is a plain one.
func (o *OfflineVCursor) result(query string) *engine.Result {
	stmts, err := NewParser().Parse(query)
	if err != nil || len(stmts) != 1 {
		return &engine.Result{}
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok || sel.Fields == nil {
		return &engine.Result{}
	}
	table := ""
	if sel.From != nil && sel.From.TableRefs != nil {
		if ts, ok := sel.From.TableRefs.Left.(*ast.TableSource); ok {
			if tn, ok := ts.Source.(*ast.TableName); ok {
				table = strings.ToLower(tn.Name.O)
			}
		}
	}
	var fields []*mysql.Field
	for i, f := range sel.Fields.Fields {
		name := fmt.Sprintf("c%d", i)
		typ := byte(mysql.MYSQL_TYPE_LONGLONG)
		charset := uint16(binaryCharset)
		if c, ok := f.Expr.(*ast.ColumnNameExpr); ok {
			name = c.Name.Name.O
			if t, ok := o.Columns[table][strings.ToLower(name)]; ok {
				typ = t
				if t == mysql.MYSQL_TYPE_VAR_STRING {
					charset = 45
				}
			}
		}
		if f.AsName.O != "" {
			name = f.AsName.O
		}
		if fc, ok := f.Expr.(*ast.FuncCallExpr); ok && strings.EqualFold(fc.FnName.O, "weight_string") {
			typ = mysql.MYSQL_TYPE_VAR_STRING
		}
		fields = append(fields, &mysql.Field{Name: []byte(name), Type: typ, Charset: charset})
	}
	return &engine.Result{Fields: fields}
}

// KeysInfo is VEXPLAIN KEYS: the columns a statement filters, groups and
// joins on, as table.column, to help choose a sharding key.
type KeysInfo struct {
	StatementType   string   `json:"statementType"`
	TableNames      []string `json:"tableNames,omitempty"`
	GroupingColumns []string `json:"groupingColumns,omitempty"`
	JoinColumns     []string `json:"joinColumns,omitempty"`
	FilterColumns   []string `json:"filterColumns,omitempty"`
	OrderColumns    []string `json:"orderColumns,omitempty"`
}

// Keys analyses a statement for VEXPLAIN KEYS.
func Keys(stmt ast.StmtNode) KeysInfo {
	typ, _ := stmtType(stmt)
	k := &keysCollector{aliases: map[string]string{}}
	stmt.Accept(k)
	info := KeysInfo{StatementType: typ.String()}
	info.TableNames = sortedSet(k.tables)
	info.GroupingColumns = k.resolveAll(k.grouping)
	info.JoinColumns = k.resolveAll(k.join)
	info.FilterColumns = k.resolveAll(k.filter)
	info.OrderColumns = k.resolveAll(k.order)
	return info
}

func sortedSet(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

type keyRef struct {
	col *ast.ColumnName
	op  string
}

type keysCollector struct {
	tables                        []string
	aliases                       map[string]string // alias or name -> table
	grouping, join, filter, order []keyRef
}

func (k *keysCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableSource:
		if tn, ok := x.Source.(*ast.TableName); ok {
			k.tables = append(k.tables, tn.Name.O)
			k.aliases[strings.ToLower(tn.Name.O)] = tn.Name.O
			if x.AsName.O != "" {
				k.aliases[strings.ToLower(x.AsName.O)] = tn.Name.O
			}
		}
	case *ast.SelectStmt:
		if x.Where != nil {
			k.filter = append(k.filter, predicateColumns(x.Where)...)
		}
		if x.Having != nil {
			k.filter = append(k.filter, predicateColumns(x.Having.Expr)...)
		}
		if x.GroupBy != nil {
			for _, it := range x.GroupBy.Items {
				k.grouping = append(k.grouping, columnsOf(it.Expr, "")...)
			}
		}
		if x.OrderBy != nil {
			for _, it := range x.OrderBy.Items {
				k.order = append(k.order, columnsOf(it.Expr, "")...)
			}
		}
	case *ast.UpdateStmt:
		if x.Where != nil {
			k.filter = append(k.filter, predicateColumns(x.Where)...)
		}
	case *ast.DeleteStmt:
		if x.Where != nil {
			k.filter = append(k.filter, predicateColumns(x.Where)...)
		}
	case *ast.Join:
		if x.On != nil {
			k.join = append(k.join, predicateColumns(x.On.Expr)...)
		}
	}
	return n, false
}

func (k *keysCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// resolveAll names each column as table.column (op), deduplicated.
func (k *keysCollector) resolveAll(refs []keyRef) []string {
	var out []string
	single := ""
	if t := sortedSet(k.tables); len(t) == 1 {
		single = t[0]
	}
	for _, r := range refs {
		table := single
		if r.col.Table.O != "" {
			table = r.col.Table.O
			if t, ok := k.aliases[strings.ToLower(table)]; ok {
				table = t
			}
		}
		s := r.col.Name.O
		if table != "" {
			s = table + "." + s
		}
		if r.op != "" {
			s += " " + r.op
		}
		out = append(out, s)
	}
	return sortedSet(out)
}

// predicateColumns lists the columns of a condition with the comparison
// each is used in.
func predicateColumns(e ast.ExprNode) []keyRef {
	var out []keyRef
	switch x := unparen(e).(type) {
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor:
			return append(predicateColumns(x.L), predicateColumns(x.R)...)
		}
		op := x.Op.String()
		if s, ok := opSymbols[x.Op]; ok {
			op = s
		}
		out = append(out, columnsOf(x.L, op)...)
		out = append(out, columnsOf(x.R, op)...)
	case *ast.PatternInExpr:
		op := "in"
		if x.Not {
			op = "not in"
		}
		out = append(out, columnsOf(x.Expr, op)...)
	case *ast.BetweenExpr:
		out = append(out, columnsOf(x.Expr, "between")...)
	case *ast.IsNullExpr:
		op := "is null"
		if x.Not {
			op = "is not null"
		}
		out = append(out, columnsOf(x.Expr, op)...)
	case *ast.PatternLikeOrIlikeExpr:
		out = append(out, columnsOf(x.Expr, "like")...)
	case *ast.UnaryOperationExpr:
		return predicateColumns(x.V)
	case nil:
	default:
		out = append(out, columnsOf(x, "")...)
	}
	return out
}

var opSymbols = map[opcode.Op]string{
	opcode.EQ: "=", opcode.NE: "!=", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">=", opcode.NullEQ: "<=>",
}

// columnsOf lists the column references inside e (not inside subqueries).
func columnsOf(e ast.ExprNode, op string) []keyRef {
	v := &columnCollector{op: op}
	if e != nil {
		e.Accept(v)
	}
	return v.refs
}

type columnCollector struct {
	op   string
	refs []keyRef
}

func (v *columnCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.ColumnNameExpr:
		v.refs = append(v.refs, keyRef{col: x.Name, op: v.op})
	case *ast.SubqueryExpr:
		return n, true
	}
	return n, false
}

func (v *columnCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }
