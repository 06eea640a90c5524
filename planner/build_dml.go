package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo/vschema"
)

// singleTable returns the one table of a FROM/INTO clause, or nil.
func singleTable(refs *ast.TableRefsClause, p placement) *source {
	if refs == nil || refs.TableRefs == nil || refs.TableRefs.Right != nil {
		return nil
	}
	ts, ok := refs.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return nil
	}
	for _, r := range p.refs {
		if r.node == tn {
			return &source{ref: r, alias: ts.AsName.O}
		}
	}
	return nil
}

func (b *builder) buildInsert(s *ast.InsertStmt) (engine.Primitive, error) {
	p, err := b.place(s)
	if err != nil && !(p.cross && s.Select != nil) {
		return nil, err
	}
	if err == nil {
		if r, ok, err := b.simpleRoute(p); ok || err != nil {
			return r, err
		}
	}
	verb := "INSERT"
	if s.IsReplace {
		verb = "REPLACE"
	}
	src := singleTable(s.Table, p)
	if src == nil {
		return nil, errInternal("%s without a table", verb)
	}
	t := src.ref.table
	if t.Type == vschema.TypeReference {
		if s.Select != nil {
			return nil, unsupportedf("%s ... SELECT into reference table %s", verb, t.Name)
		}
		return b.referenceWrite("Insert", s, src)
	}
	if s.Select != nil {
		if !src.ref.ks.Sharded {
			return nil, unsupportedf("%s ... SELECT into an unsharded keyspace from another keyspace", verb)
		}
		return b.insertSelect(s, src, verb)
	}
	if hasSubquery(s) {
		return nil, unsupportedf("subqueries in %s into a sharded table", verb)
	}
	col, vx, ok := primaryVindex(t)
	if !ok {
		return nil, unsupportedf("%s into table %s whose primary vindex cannot compute a shard", verb, t.Name)
	}
	if len(s.Columns) == 0 && len(s.Lists) > 0 {
		if err := fillInsertColumns(s, t, verb, col); err != nil {
			return nil, err
		}
	}
	var autoInc *engine.AutoIncrement
	if t.AutoIncrement != nil && t.Sequence != nil {
		autoInc = &engine.AutoIncrement{Column: t.AutoIncrement.Column, SeqKeyspace: t.Sequence.Keyspace, SeqTable: t.Sequence.Name, GenBase: b.nparams}
		if len(s.Columns) > 0 && columnIndex(s.Columns, autoInc.Column) < 0 {
			// The column is omitted: every row gets a generated id.
			s.Columns = append(s.Columns, &ast.ColumnName{Name: ast.NewCIStr(autoInc.Column)})
			for i := range s.Lists {
				s.Lists[i] = append(s.Lists[i], nil)
			}
		}
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
	ins := &engine.Insert{Keyspace: src.ref.ks.Name, Table: t.Name, Vindex: vx, AutoInc: autoInc, Lookups: b.ownedLookups(src)}
	if len(ins.Lookups) > 0 {
		// Each of these may write no row, or change another, where the
		// lookup rows were written for an inserted one.
		switch {
		case s.IsReplace:
			return nil, unsupportedf("REPLACE into table %s, which owns lookup vindexes", t.Name)
		case s.IgnoreErr:
			return nil, unsupportedf("INSERT IGNORE into table %s, which owns lookup vindexes", t.Name)
		case len(s.OnDuplicate) > 0:
			return nil, unsupportedf("ON DUPLICATE KEY UPDATE on table %s, which owns lookup vindexes", t.Name)
		}
	}
	autoAt := -1
	if autoInc != nil {
		autoAt = columnIndex(s.Columns, autoInc.Column)
	}
	for i, row := range s.Lists {
		if len(row) != len(s.Columns) {
			return nil, sqlerror.New(sqlerror.User, mysql.ER_WRONG_VALUE_COUNT_ON_ROW, "Column count doesn't match value count at row %d", i+1)
		}
		if autoAt >= 0 {
			slot, err := autoIncrementSlot(autoInc, row[autoAt], i)
			if err != nil {
				return nil, err
			}
			if slot >= autoInc.GenBase {
				row[autoAt] = newParamExpr(slot)
			}
		}
		v, ok := valueOf(unparen(row[at]))
		if !ok {
			return nil, unsupportedf("%s with a value other than a literal or ? for primary vindex column %s.%s", verb, t.Name, col)
		}
		ins.Values = append(ins.Values, v)
		for _, o := range ins.Lookups {
			li := columnIndex(s.Columns, o.Column)
			if li < 0 {
				return nil, refusedf("%s into table '%s' must include the column '%s' of lookup vindex '%s'", verb, t.Name, o.Column, o.Vindex.Vindex.Name())
			}
			lv, ok := valueOf(unparen(row[li]))
			if !ok {
				return nil, unsupportedf("%s with a value other than a literal or ? for lookup vindex column %s.%s", verb, t.Name, o.Column)
			}
			o.Values = append(o.Values, lv)
		}
		parts := make([]string, len(row))
		for j, e := range row {
			if parts[j], err = restore(e); err != nil {
				return nil, err
			}
		}
		rt, err := engine.CompileTemplate(strings.Join(parts, ","))
		if err != nil {
			return nil, err
		}
		ins.Rows = append(ins.Rows, rt)
	}
	if len(ins.Rows) == 0 {
		return nil, errInternal("%s without rows", verb)
	}
	s.Setlist = false
	s.Lists = [][]ast.ExprNode{{newHoleExpr(engine.HoleValsText)}}
	if ins.Query, err = render(s); err != nil {
		return nil, err
	}
	return ins, nil
}

func columnIndex(cols []*ast.ColumnName, name string) int {
	for i, c := range cols {
		if strings.EqualFold(c.Name.O, name) {
			return i
		}
	}
	return -1
}

func (b *builder) buildUpdate(s *ast.UpdateStmt) (engine.Primitive, error) {
	r, src, subs, err := b.dmlTarget(s, "Update", s.TableRefs, s.MultipleTable, s.With, "UPDATE of")
	if r != nil || err != nil {
		return r, err
	}
	p, err := b.buildSingleUpdate(s, src)
	return b.withSubqueries(subs, p, err)
}

// buildSingleUpdate plans an UPDATE of the one sharded table src.
func (b *builder) buildSingleUpdate(s *ast.UpdateStmt, src *source) (engine.Primitive, error) {
	owned := b.ownedLookups(src)
	var changed []*engine.OwnedLookup
	for _, o := range owned {
		e, set := setValue(s.List, src, o.Column)
		if !set {
			continue
		}
		v, ok := valueOf(unparen(e))
		if !ok {
			return nil, unsupportedf("UPDATE of lookup vindex column %s.%s to anything but a literal or ?", src.ref.table.Name, o.Column)
		}
		o.NewValue = &v
		changed = append(changed, o)
	}
	if col, _, ok := primaryVindexColumn(src.ref.table); ok {
		if e, set := setValue(s.List, src, col); set {
			if len(owned) > 0 {
				// A moved row's every lookup row gets its new keyspace id.
				return b.ownedMove(s, src, col, e, owned)
			}
			return b.buildMoveRows(s, src, col, e)
		}
	}
	if len(changed) > 0 {
		return b.ownedDML("Update", s, s.Where, s.Order, s.Limit, src, changed)
	}
	return b.routedDML("Update", s, s.Where, s.Limit, src)
}

func (b *builder) buildDelete(s *ast.DeleteStmt) (engine.Primitive, error) {
	r, src, subs, err := b.dmlTarget(s, "Delete", s.TableRefs, s.IsMultiTable, s.With, "DELETE from")
	if r != nil || err != nil {
		return r, err
	}
	var p engine.Primitive
	if owned := b.ownedLookups(src); len(owned) > 0 {
		p, err = b.ownedDML("Delete", s, s.Where, s.Order, s.Limit, src, owned)
	} else {
		p, err = b.routedDML("Delete", s, s.Where, s.Limit, src)
	}
	return b.withSubqueries(subs, p, err)
}

// dmlTarget does what UPDATE and DELETE share before their own rules: a
// statement for an unsharded keyspace or a targeted shard passes through,
// a reference table's goes to every copy (r is then the plan), and
// multi-table statements, WITH and subqueries on a sharded table are
// refused. Otherwise src is the one sharded table, and subs the
// uncorrelated subqueries of WHERE, to run first (dmlSubqueries).
func (b *builder) dmlTarget(s ast.StmtNode, op string, refs *ast.TableRefsClause, multi bool, with *ast.WithClause, phrase string) (engine.Primitive, *source, []engine.SubqueryInput, error) {
	p, err := b.place(s)
	if err != nil {
		return nil, nil, nil, err
	}
	if r, ok, err := b.simpleRoute(p); ok || err != nil {
		return r, nil, nil, err
	}
	src := singleTable(refs, p)
	if src == nil || multi || with != nil || hasSubquery(s) {
		if r, ok, err := b.colocatedDML(op, s, dmlWhere(s), dmlLimit(s), p); ok || err != nil {
			return r, nil, nil, err
		}
	}
	if src == nil || multi {
		return nil, nil, nil, unsupportedf("multi-table %s on sharded tables", strings.ToUpper(op))
	}
	if src.ref.table.Type == vschema.TypeReference {
		r, err := b.referenceWrite(op, s, src)
		return r, nil, nil, err
	}
	if with != nil {
		return nil, nil, nil, unsupported("WITH (common table expressions) on sharded tables")
	}
	if hasSubquery(s) {
		subs, ok, err := b.dmlSubqueries(s, src)
		if err != nil {
			return nil, nil, nil, err
		}
		if !ok {
			return nil, nil, nil, unsupportedf("subqueries in %s a sharded table", phrase)
		}
		return nil, src, subs, nil
	}
	return nil, src, nil, nil
}

// primaryVindexColumn is the first column of the primary vindex, whatever
// its kind.
func primaryVindexColumn(t *vschema.TableSchema) (string, bool, bool) {
	if t == nil || len(t.ColumnVindexes) == 0 || len(t.ColumnVindexes[0].Columns) == 0 {
		return "", false, false
	}
	return t.ColumnVindexes[0].Columns[0], true, true
}

func (b *builder) routedDML(op string, stmt ast.StmtNode, where ast.ExprNode, limit *ast.Limit, src *source) (engine.Primitive, error) {
	vr := b.routeWhere(where, src, true)
	if limit != nil && vr.opcode != engine.EqualUnique && vr.opcode != engine.None {
		return nil, unsupportedf("%s with LIMIT across shards", strings.ToUpper(op))
	}
	vr.cutInList()
	q, err := render(stmt)
	if err != nil {
		return nil, err
	}
	return &engine.DML{Route: engine.Route{Routing: vr.routing(src), Query: q}, Op: op}, nil
}

// buildMoveRows plans an UPDATE that sets the primary vindex column (see
// MoveRows). The new value must be a literal or ?, and the vindex a
// functional one.
func (b *builder) buildMoveRows(s *ast.UpdateStmt, src *source, col string, newExpr ast.ExprNode) (engine.Primitive, error) {
	t := src.ref.table
	v, ok := valueOf(newExpr)
	_, fn, isFn := primaryVindex(t)
	if !ok || !isFn {
		return nil, unsupportedf("UPDATE of primary vindex column %s.%s to anything but a literal or ?", t.Name, col)
	}
	if s.Limit != nil || s.Order != nil {
		return nil, unsupportedf("UPDATE of primary vindex column %s.%s with ORDER BY or LIMIT", t.Name, col)
	}
	p, err := b.routedDML("Update", s, s.Where, nil, src)
	if err != nil {
		return nil, err
	}
	return &engine.MoveRows{Update: p.(*engine.DML), Table: t.Name, Column: col, Vindex: fn, NewValue: v}, nil
}

func dmlWhere(s ast.StmtNode) ast.ExprNode {
	switch x := s.(type) {
	case *ast.UpdateStmt:
		return x.Where
	case *ast.DeleteStmt:
		return x.Where
	}
	return nil
}

func dmlLimit(s ast.StmtNode) *ast.Limit {
	switch x := s.(type) {
	case *ast.UpdateStmt:
		return x.Limit
	case *ast.DeleteStmt:
		return x.Limit
	}
	return nil
}
