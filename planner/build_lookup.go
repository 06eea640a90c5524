package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// routeWhere is routeByWhere that also considers the table's lookup
// vindexes: among the vindexes the WHERE clause pins, the best opcode
// wins (EqualUnique, then Equal, IN, Range, Scatter), then the cheapest
// vindex (functional 0-1, lookup_unique 10, lookup 20), as Vitess
// chooses. None and a primary-vindex EqualUnique cannot be beaten.
func (b *builder) routeWhere(where ast.ExprNode, src *source, only bool) vindexRoute {
	best := routeByWhere(where, src, only)
	t := src.ref.table
	if best.opcode == engine.None || best.opcode == engine.EqualUnique || t == nil || len(t.ColumnVindexes) < 2 {
		return best
	}
	bestCost := 0
	if _, vx, ok := primaryVindex(t); ok {
		bestCost = vx.Cost()
	}
	for _, cv := range t.ColumnVindexes[1:] {
		l, ok := cv.Vindex.(*vindex.Lookup)
		if !ok || len(cv.Columns) != 1 || l.WriteOnly() {
			continue // write_only: being backfilled, may lack values
		}
		vals := columnValues(where, src, only, cv.Columns[0])
		if len(vals) == 0 {
			continue
		}
		op := engine.IN
		if len(vals) == 1 {
			op = engine.Equal
			if l.IsUnique() {
				op = engine.EqualUnique
			}
		}
		if opRank(op) > opRank(best.opcode) || (opRank(op) == opRank(best.opcode) && l.Cost() >= bestCost) {
			continue
		}
		lv, ok := newLookupVindex(b.vs, t, cv)
		if !ok {
			continue
		}
		best, bestCost = vindexRoute{opcode: op, values: vals, lookup: lv}, l.Cost()
	}
	return best
}

// opRank orders routing opcodes from the fewest shards to the most.
func opRank(op engine.Opcode) int {
	switch op {
	case engine.EqualUnique:
		return 0
	case engine.Equal:
		return 1
	case engine.IN:
		return 2
	case engine.Range:
		return 3
	}
	return 4
}

// columnValues finds, among the top-level AND terms of where, the first
// `col = v` or `col IN (v, ...)` whose values are all literals or ?.
func columnValues(where ast.ExprNode, src *source, only bool, col string) []engine.Value {
	for _, term := range splitAnd(where, nil) {
		switch x := term.(type) {
		case *ast.BinaryOperationExpr:
			if x.Op != opcode.EQ {
				continue
			}
			var other ast.ExprNode
			switch {
			case isVindexColumn(x.L, src, only, col):
				other = x.R
			case isVindexColumn(x.R, src, only, col):
				other = x.L
			default:
				continue
			}
			if v, ok := valueOf(unparen(other)); ok {
				return []engine.Value{v}
			}
		case *ast.PatternInExpr:
			if x.Not || x.Sel != nil || !isVindexColumn(x.Expr, src, only, col) {
				continue
			}
			if vals := listValues(x.List); len(vals) > 0 {
				return vals
			}
		}
	}
	return nil
}

// ownedLookups are the lookup vindexes table t owns, resolved.
func (b *builder) ownedLookups(src *source) []*engine.OwnedLookup {
	t := src.ref.table
	var out []*engine.OwnedLookup
	for _, cv := range t.ColumnVindexes {
		if !cv.Owned {
			continue
		}
		if lv, ok := newLookupVindex(b.vs, t, cv); ok {
			out = append(out, &engine.OwnedLookup{Vindex: lv, Column: cv.Columns[0]})
		}
	}
	return out
}

// setValue finds `col = v` in an UPDATE's SET list.
func setValue(list []*ast.Assignment, src *source, col string) (ast.ExprNode, bool) {
	for _, a := range list {
		if strings.EqualFold(a.Column.Name.O, col) && src.matches(a.Column, true) {
			return a.Expr, true
		}
	}
	return nil, false
}

// ownedDML plans an UPDATE or DELETE of a table that owns lookup vindexes
// (lookups: those whose rows it changes): the statement as routedDML
// plans it, and a SELECT ... FOR UPDATE of the same rows on the same
// shards that reads their primary vindex and lookup columns.
func (b *builder) ownedDML(op string, stmt ast.StmtNode, where ast.ExprNode, order *ast.OrderByClause, limit *ast.Limit, src *source, lookups []*engine.OwnedLookup) (engine.Primitive, error) {
	if _, _, ok := primaryVindex(src.ref.table); !ok {
		return nil, unsupportedf("%s of table %s, which owns lookup vindexes, without a functional primary vindex", strings.ToUpper(op), src.ref.table.Name)
	}
	p, err := b.routedDML(op, stmt, where, limit, src)
	if err != nil {
		return nil, err
	}
	return wrapOwned(p.(*engine.DML), nil, where, order, limit, src, lookups)
}

// ownedMove plans an UPDATE that moves rows of a table owning lookup
// vindexes (it sets the primary vindex column): every lookup row of a
// moved row must name its new keyspace id.
func (b *builder) ownedMove(s *ast.UpdateStmt, src *source, col string, newExpr ast.ExprNode, lookups []*engine.OwnedLookup) (engine.Primitive, error) {
	p, err := b.buildMoveRows(s, src, col, newExpr)
	if err != nil {
		return nil, err
	}
	m := p.(*engine.MoveRows)
	return wrapOwned(m.Update, m, s.Where, nil, nil, src, lookups)
}

// wrapOwned builds the OwnedDML around a planned statement; where has had
// its IN list cut by routedDML, so the SELECT gets the same hole.
func wrapOwned(dml *engine.DML, move *engine.MoveRows, where ast.ExprNode, order *ast.OrderByClause, limit *ast.Limit, src *source, lookups []*engine.OwnedLookup) (engine.Primitive, error) {
	t := src.ref.table
	col, vx, _ := primaryVindex(t)
	sel := "select " + engine.QuoteIdent(col)
	for _, o := range lookups {
		sel += ", " + engine.QuoteIdent(o.Column)
	}
	sel += " from " + engine.QuoteIdent(t.Name)
	if src.alias != "" {
		sel += " as " + engine.QuoteIdent(src.alias)
	}
	for _, part := range []ast.Node{where, order, limit} {
		if part == nil || isNilNode(part) {
			continue
		}
		s, err := restore(part)
		if err != nil {
			return nil, err
		}
		if part == ast.Node(where) {
			s = "where " + s
		}
		sel += " " + s
	}
	q, err := engine.CompileTemplate(sel + " for update")
	if err != nil {
		return nil, err
	}
	return &engine.OwnedDML{DML: dml, Move: move, Select: &engine.Route{Routing: dml.Routing, Query: q}, Vindex: vx, Lookups: lookups}, nil
}

// isNilNode reports whether an interface holds a nil pointer.
func isNilNode(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.OrderByClause:
		return x == nil
	case *ast.Limit:
		return x == nil
	case ast.ExprNode:
		return x == nil
	}
	return false
}

// newLookupVindex resolves column vindex cv of table t; ok is false when
// cv is not a lookup the vschema can reach.
func newLookupVindex(vs *vschema.VSchema, t *vschema.TableSchema, cv *vschema.ColumnVindexSchema) (*engine.LookupVindex, bool) {
	l, ok := cv.Vindex.(*vindex.Lookup)
	if !ok || len(cv.Columns) != 1 {
		return nil, false
	}
	ks := vs.Keyspaces[cv.LookupKeyspace]
	if ks == nil {
		return nil, false
	}
	lv := &engine.LookupVindex{Vindex: l, Keyspace: ks.Name, Table: cv.LookupTable, Sharded: ks.Sharded,
		OwnerKeyspace: t.Keyspace, OwnerTable: t.Name, OwnerColumn: cv.Columns[0]}
	if ks.Sharded {
		_, fn, ok := primaryVindex(ks.Tables[cv.LookupTable])
		if !ok {
			return nil, false
		}
		lv.TableVindex = fn
	}
	return lv, true
}
