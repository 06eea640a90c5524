package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// source is one table instance in a FROM clause.
type source struct {
	ref   tableRef
	alias string
}

// matches reports whether column c belongs to s. An unqualified column
// matches only when s is the statement's only table.
func (s *source) matches(c *ast.ColumnName, only bool) bool {
	if c.Table.O == "" {
		return only
	}
	if s.alias != "" {
		return c.Schema.O == "" && c.Table.O == s.alias
	}
	if c.Schema.O != "" && (s.ref.ks == nil || c.Schema.O != s.ref.ks.Name) {
		return false
	}
	return c.Table.O == s.ref.node.Name.O
}

// primaryVindex is the column and vindex that place a table's rows, when
// the planner can route by them: a single-column, unique, functional
// primary vindex.
func primaryVindex(t *vschema.TableSchema) (string, vindex.Functional, bool) {
	if t == nil || len(t.ColumnVindexes) == 0 {
		return "", nil, false
	}
	cv := t.ColumnVindexes[0]
	if len(cv.Columns) != 1 {
		return "", nil, false
	}
	f, ok := cv.Vindex.(vindex.Functional)
	if !ok || !f.IsUnique() {
		return "", nil, false
	}
	return cv.Columns[0], f, true
}

// splitAnd flattens a condition into its top-level AND terms.
func splitAnd(e ast.ExprNode, out []ast.ExprNode) []ast.ExprNode {
	// Iterative (a stack of right operands still to split), so that no
	// chain of ANDs, however long, can overflow the goroutine's stack.
	var pending []ast.ExprNode
	for {
		switch x := e.(type) {
		case nil:
		case *ast.BinaryOperationExpr:
			if x.Op == opcode.LogicAnd {
				pending = append(pending, x.R)
				e = x.L
				continue
			}
			out = append(out, e)
		case *ast.ParenthesesExpr:
			e = x.Expr
			continue
		default:
			out = append(out, e)
		}
		if len(pending) == 0 {
			return out
		}
		e = pending[len(pending)-1]
		pending = pending[:len(pending)-1]
	}
}

func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// isVindexColumn reports whether e is src's primary vindex column.
func isVindexColumn(e ast.ExprNode, src *source, only bool, col string) bool {
	c, ok := unparen(e).(*ast.ColumnNameExpr)
	return ok && strings.EqualFold(c.Name.Name.O, col) && src.matches(c.Name, only)
}

// vindexRoute is what the WHERE clause says about one table's shards.
type vindexRoute struct {
	opcode engine.Opcode
	values []engine.Value
	in     *ast.PatternInExpr // IN: the list to cut per shard
	lo, hi *engine.Value      // Range: inclusive bounds, nil if open
	// lookup, when set, routes values of a lookup vindex's column
	// (EqualUnique, Equal or IN) instead of the primary vindex.
	lookup *engine.LookupVindex
}

// routeByWhere looks among the top-level AND terms of where for `col = v`,
// `col IN (v, ...)` and, on an order-preserving vindex, range bounds on
// src's primary vindex; terms that can never be true together (two
// different values, `col = NULL`, a false constant) give None. Anything
// else scatters.
func routeByWhere(where ast.ExprNode, src *source, only bool) vindexRoute {
	terms := splitAnd(where, nil)
	for _, term := range terms {
		if constantFalse(term) {
			return vindexRoute{opcode: engine.None}
		}
	}
	col, vx, ok := primaryVindex(src.ref.table)
	if !ok {
		return vindexRoute{opcode: engine.Scatter}
	}
	var eq, in, rng *vindexRoute
	var eqVals [][]engine.Value // every literal equality or IN list: for None
	for _, term := range terms {
		switch x := term.(type) {
		case *ast.BinaryOperationExpr:
			if x.Op != opcode.EQ {
				if r := rangeTerm(x, src, only, col, vx); r != nil {
					rng = mergeRange(rng, r)
				}
				continue
			}
			var v engine.Value
			var found bool
			if isVindexColumn(x.L, src, only, col) {
				v, found = valueOf(unparen(x.R))
			} else if isVindexColumn(x.R, src, only, col) {
				v, found = valueOf(unparen(x.L))
			}
			if !found {
				continue
			}
			if v.Param < 0 && v.Val == nil && v.SQL == "null" {
				return vindexRoute{opcode: engine.None} // col = NULL is never true
			}
			eqVals = append(eqVals, []engine.Value{v})
			if eq == nil {
				eq = &vindexRoute{opcode: engine.EqualUnique, values: []engine.Value{v}}
			}
		case *ast.PatternInExpr:
			if x.Not || x.Sel != nil || !isVindexColumn(x.Expr, src, only, col) {
				continue
			}
			vals := listValues(x.List)
			if len(vals) == 0 {
				continue
			}
			eqVals = append(eqVals, vals)
			if in != nil {
				continue
			}
			if len(vals) == 1 {
				if eq == nil {
					eq = &vindexRoute{opcode: engine.EqualUnique, values: vals}
				}
				continue
			}
			in = &vindexRoute{opcode: engine.IN, values: vals, in: x}
		case *ast.BetweenExpr:
			if x.Not || !isVindexColumn(x.Expr, src, only, col) || !orderPreserving(vx) {
				continue
			}
			lo, ok1 := valueOf(unparen(x.Left))
			hi, ok2 := valueOf(unparen(x.Right))
			if ok1 && ok2 {
				rng = mergeRange(rng, &vindexRoute{opcode: engine.Range, lo: &lo, hi: &hi})
			}
		}
	}
	if impossible(eqVals, vx) {
		return vindexRoute{opcode: engine.None}
	}
	switch {
	case eq != nil:
		return *eq
	case in != nil:
		return *in
	case rng != nil && rng.lo != nil:
		// Without a lower bound, negative values (whose keyspace ids are
		// the highest) would match too: a range needs lo >= 0.
		return *rng
	}
	return vindexRoute{opcode: engine.Scatter}
}

// listValues returns an IN list's values, or nil unless every one is a
// literal or ?.
func listValues(list []ast.ExprNode) []engine.Value {
	vals := make([]engine.Value, 0, len(list))
	for _, e := range list {
		v, ok := valueOf(unparen(e))
		if !ok {
			return nil
		}
		vals = append(vals, v)
	}
	return vals
}

// constantFalse reports whether a WHERE term is a constant that is never
// true: 0, FALSE, NULL, or a comparison of two integer literals that fails.
func constantFalse(e ast.ExprNode) bool {
	switch x := unparen(e).(type) {
	case *valueExpr:
		switch v := x.val.(type) {
		case nil:
			return true
		case int64:
			return v == 0
		case bool:
			return !v
		}
	case *ast.BinaryOperationExpr:
		l, ok1 := unparen(x.L).(*valueExpr)
		r, ok2 := unparen(x.R).(*valueExpr)
		if !ok1 || !ok2 {
			return false
		}
		a, ok1 := l.val.(int64)
		b, ok2 := r.val.(int64)
		if !ok1 || !ok2 {
			return false
		}
		switch x.Op {
		case opcode.EQ:
			return a != b
		case opcode.NE:
			return a == b
		case opcode.LT:
			return a >= b
		case opcode.GT:
			return a <= b
		case opcode.LE:
			return a > b
		case opcode.GE:
			return a < b
		}
	}
	return false
}

// impossible reports whether literal equalities and IN lists on the vindex
// column share no keyspace id: a row has one, so no row matches them all.
func impossible(sets [][]engine.Value, vx vindex.Functional) bool {
	if len(sets) < 2 {
		return false
	}
	var common map[string]bool
	for _, set := range sets {
		ids := map[string]bool{}
		for _, v := range set {
			if v.Param >= 0 || !v.Mappable {
				return false
			}
			if v.Val == nil {
				continue // NULL in a list matches nothing
			}
			id, err := vx.Map(v.Val)
			if err != nil {
				return false
			}
			if common == nil || common[string(id)] {
				ids[string(id)] = true
			}
		}
		common = ids
		if len(common) == 0 {
			return true
		}
	}
	return false
}

// orderPreserving reports whether a vindex maps values to keyspace ids in
// the same order (numeric: the id is the value, big-endian).
func orderPreserving(vx vindex.Functional) bool {
	return vx.Type() == "numeric"
}

// rangeTerm reads `col < v`, `v <= col`, ... on an order-preserving vindex.
func rangeTerm(x *ast.BinaryOperationExpr, src *source, only bool, col string, vx vindex.Functional) *vindexRoute {
	if !orderPreserving(vx) {
		return nil
	}
	op := x.Op
	var other ast.ExprNode
	switch {
	case isVindexColumn(x.L, src, only, col):
		other = x.R
	case isVindexColumn(x.R, src, only, col):
		other = x.L
		switch op { // v < col is col > v
		case opcode.LT:
			op = opcode.GT
		case opcode.LE:
			op = opcode.GE
		case opcode.GT:
			op = opcode.LT
		case opcode.GE:
			op = opcode.LE
		}
	default:
		return nil
	}
	v, ok := valueOf(unparen(other))
	if !ok {
		return nil
	}
	switch op {
	case opcode.GT, opcode.GE:
		return &vindexRoute{opcode: engine.Range, lo: &v}
	case opcode.LT, opcode.LE:
		return &vindexRoute{opcode: engine.Range, hi: &v}
	}
	return nil
}

// mergeRange keeps the first bound of each side (either is a superset of
// the rows both allow, which is all routing needs).
func mergeRange(a, b *vindexRoute) *vindexRoute {
	if a == nil {
		return b
	}
	if a.lo == nil {
		a.lo = b.lo
	}
	if a.hi == nil {
		a.hi = b.hi
	}
	return a
}

// routing builds the routing of a single-table statement on src.
func (vr vindexRoute) routing(src *source) engine.Routing {
	r := engine.Routing{Opcode: vr.opcode, Keyspace: src.ref.ks.Name, Sharded: true, Table: src.ref.node.Name.O, Values: vr.values, Lo: vr.lo, Hi: vr.hi, Lookup: vr.lookup}
	if vr.lookup == nil && (vr.opcode == engine.EqualUnique || vr.opcode == engine.IN || vr.opcode == engine.Range) {
		_, r.Vindex, _ = primaryVindex(src.ref.table)
	}
	return r
}

// cutInList replaces an IN list with the hole each shard's values go into.
func (vr vindexRoute) cutInList() {
	if vr.opcode == engine.IN && vr.in != nil {
		vr.in.List = []ast.ExprNode{newHoleExpr(engine.HoleValsText)}
	}
}

// hasSubquery reports whether n contains a subquery or derived table.
func hasSubquery(n ast.Node) bool {
	v := &subqueryFinder{}
	n.Accept(v)
	return v.found
}

type subqueryFinder struct {
	found bool
	depth int
}

func (v *subqueryFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
		v.found = true
		return n, true
	case *ast.SelectStmt, *ast.SetOprStmt:
		v.depth++
		if v.depth > 1 {
			v.found = true
			return n, true
		}
	}
	return n, false
}

func (v *subqueryFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// findNode reports whether n contains a node for which match is true.
func findNode(n ast.Node, match func(ast.Node) bool) bool {
	if n == nil {
		return false
	}
	v := &nodeFinder{match: match}
	n.Accept(v)
	return v.found
}

type nodeFinder struct {
	match func(ast.Node) bool
	found bool
}

func (v *nodeFinder) Enter(n ast.Node) (ast.Node, bool) {
	if v.found || v.match(n) {
		v.found = true
		return n, true
	}
	return n, false
}

func (v *nodeFinder) Leave(n ast.Node) (ast.Node, bool) { return n, !v.found }
