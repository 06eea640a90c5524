package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// insertSelect plans INSERT ... SELECT into a sharded table whose rows do
// not come from the same shard (engine.InsertSelect): the SELECT is
// planned like any other (across shards or keyspaces), and its rows are
// inserted through the same split-by-vindex path as INSERT ... VALUES.
func (b *builder) insertSelect(s *ast.InsertStmt, src *source, verb string) (engine.Primitive, error) {
	t := src.ref.table
	col, vx, ok := primaryVindex(t)
	if !ok {
		return nil, unsupportedf("%s into table %s whose primary vindex cannot compute a shard", verb, t.Name)
	}
	if t.AutoIncrement != nil && t.Sequence != nil {
		return nil, unsupportedf("%s ... SELECT into table %s, whose auto-increment column comes from a sequence", verb, t.Name)
	}
	if len(b.ownedLookups(src)) > 0 {
		return nil, unsupportedf("%s ... SELECT into table %s, which owns lookup vindexes", verb, t.Name)
	}
	if len(s.Columns) == 0 {
		return nil, refusedf("%s into sharded table '%s' must list its columns, including the primary vindex column '%s'", verb, t.Name, col)
	}
	at := columnIndex(s.Columns, col)
	if at < 0 {
		return nil, refusedf("%s into sharded table '%s' must include the primary vindex column '%s'", verb, t.Name, col)
	}
	for _, a := range s.OnDuplicate {
		if strings.EqualFold(a.Column.Name.O, col) {
			return nil, unsupportedf("ON DUPLICATE KEY UPDATE of primary vindex column %s.%s", t.Name, col)
		}
	}
	input, q, err := b.selectThenValues(s, verb)
	if err != nil {
		return nil, err
	}
	ins := &engine.Insert{Keyspace: src.ref.ks.Name, Table: t.Name, Vindex: vx, Query: q}
	return &engine.InsertSelect{Input: input, Insert: ins, Columns: len(s.Columns), VindexCol: at}, nil
}

// selectThenValues plans the SELECT of an INSERT ... SELECT and turns
// the statement into the INSERT ... VALUES its rows are written with (a
// hole the rows fill).
func (b *builder) selectThenValues(s *ast.InsertStmt, verb string) (engine.Primitive, *engine.Template, error) {
	stmt, ok := s.Select.(ast.StmtNode)
	if !ok {
		return nil, nil, unsupportedf("this %s ... SELECT", verb)
	}
	input, err := b.buildSelect(stmt)
	if err != nil {
		return nil, nil, err
	}
	s.Select = nil
	s.Setlist = false
	s.Lists = [][]ast.ExprNode{{newHoleExpr(engine.HoleValsText)}}
	q, err := render(s)
	if err != nil {
		return nil, nil, err
	}
	return input, q, nil
}

// insertSelectUnsharded plans INSERT ... SELECT into an unsharded
// keyspace's table from another keyspace (the same keyspace goes to its
// shard as written): the SELECT is planned like any other and its rows
// are sent to the keyspace's one shard as one INSERT ... VALUES, which
// keeps the statement's column list (or none), IGNORE and ON DUPLICATE
// KEY UPDATE.
func (b *builder) insertSelectUnsharded(s *ast.InsertStmt, src *source, verb string) (engine.Primitive, error) {
	name := src.ref.node.Name.O
	if t := src.ref.table; t != nil {
		name = t.Name
		if t.AutoIncrement != nil && t.Sequence != nil {
			return nil, unsupportedf("%s ... SELECT into table %s, whose auto-increment column comes from a sequence", verb, t.Name)
		}
	}
	input, q, err := b.selectThenValues(s, verb)
	if err != nil {
		return nil, err
	}
	ins := &engine.Insert{Keyspace: src.ref.ks.Name, Table: name, Query: q}
	return &engine.InsertSelect{Input: input, Insert: ins, Columns: len(s.Columns)}, nil
}
