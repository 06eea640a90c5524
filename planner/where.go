package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
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
	switch x := e.(type) {
	case nil:
		return out
	case *ast.BinaryOperationExpr:
		if x.Op == opcode.LogicAnd {
			return splitAnd(x.R, splitAnd(x.L, out))
		}
	case *ast.ParenthesesExpr:
		return splitAnd(x.Expr, out)
	}
	return append(out, e)
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
	opcode Opcode
	values []evalValue
	in     *ast.PatternInExpr // IN: the list to cut per shard
}

// routeByWhere looks for `col = v` or `col IN (v, ...)` on src's primary
// vindex among the top-level AND terms of where. Anything else scatters.
func routeByWhere(where ast.ExprNode, src *source, only bool) vindexRoute {
	col, _, ok := primaryVindex(src.ref.table)
	if !ok {
		return vindexRoute{opcode: Scatter}
	}
	var in *vindexRoute
	for _, term := range splitAnd(where, nil) {
		switch x := term.(type) {
		case *ast.BinaryOperationExpr:
			if x.Op != opcode.EQ {
				continue
			}
			if isVindexColumn(x.L, src, only, col) {
				if v, ok := valueOf(unparen(x.R)); ok {
					return vindexRoute{opcode: EqualUnique, values: []evalValue{v}}
				}
			}
			if isVindexColumn(x.R, src, only, col) {
				if v, ok := valueOf(unparen(x.L)); ok {
					return vindexRoute{opcode: EqualUnique, values: []evalValue{v}}
				}
			}
		case *ast.PatternInExpr:
			if x.Not || x.Sel != nil || in != nil || !isVindexColumn(x.Expr, src, only, col) {
				continue
			}
			vals := make([]evalValue, 0, len(x.List))
			for _, e := range x.List {
				v, ok := valueOf(unparen(e))
				if !ok {
					vals = nil
					break
				}
				vals = append(vals, v)
			}
			if len(vals) == 0 {
				continue
			}
			if len(vals) == 1 {
				return vindexRoute{opcode: EqualUnique, values: vals}
			}
			in = &vindexRoute{opcode: IN, values: vals, in: x}
		}
	}
	if in != nil {
		return *in
	}
	return vindexRoute{opcode: Scatter}
}

// routing builds the routing of a single-table statement on src.
func (vr vindexRoute) routing(src *source) routing {
	r := routing{Opcode: vr.opcode, Keyspace: src.ref.ks.Name, Sharded: true, Table: src.ref.node.Name.O, Values: vr.values}
	if vr.opcode == EqualUnique || vr.opcode == IN {
		_, r.Vindex, _ = primaryVindex(src.ref.table)
	}
	return r
}

// cutInList replaces an IN list with the hole each shard's values go into.
func (vr vindexRoute) cutInList() {
	if vr.opcode == IN && vr.in != nil {
		vr.in.List = []ast.ExprNode{newHoleExpr(holeValsText)}
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
