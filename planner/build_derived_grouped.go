package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// mergeIntoGrouped merges the outer query into the only derived table it
// reads when that table groups, aggregates, removes duplicates or limits
// its rows: the outer projection replaces the derived table's select list
// (each column computed by the expression that defines it, named as the
// outer query names it), outer conditions go to the derived table's WHERE
// when they read only grouping expressions and to its HAVING otherwise,
// and the outer ORDER BY and LIMIT become the derived table's. sel becomes
// the merged statement.
func (b *builder) mergeIntoGrouped(sel, inner *ast.SelectStmt, cols *derivedColumns) error {
	switch {
	case sel.GroupBy != nil || sel.Having != nil || findOwn(sel.Fields, isAggregate) ||
		(sel.OrderBy != nil && findOwn(sel.OrderBy, isAggregate)):
		return unsupported("GROUP BY or aggregate functions over a grouped, DISTINCT or LIMITed derived table across shards")
	case sel.Distinct || (sel.SelectStmtOpts != nil && sel.SelectStmtOpts.Distinct):
		return unsupported("DISTINCT over a grouped, DISTINCT or LIMITed derived table across shards")
	case len(sel.WindowSpecs) > 0 || findNode(sel, isWindowFunc):
		return unsupported("window functions over a derived table across shards")
	case hasSubquery(sel.Fields) || (sel.Where != nil && hasSubquery(sel.Where)) || (sel.OrderBy != nil && hasSubquery(sel.OrderBy)):
		return unsupported("subqueries over a grouped, DISTINCT or LIMITed derived table across shards")
	case sel.SelectIntoOpt != nil || sel.LockInfo != nil:
		return unsupported("SELECT ... INTO or FOR UPDATE over a derived table across shards")
	case inner.Limit != nil && (sel.Where != nil || sel.OrderBy != nil || sel.Limit != nil):
		return unsupported("WHERE, ORDER BY or LIMIT over a derived table with LIMIT across shards")
	case (inner.Distinct || (inner.SelectStmtOpts != nil && inner.SelectStmtOpts.Distinct)) && (inner.GroupBy != nil || findOwn(inner.Fields, isAggregate)):
		return unsupported("DISTINCT with GROUP BY across shards")
	}
	if err := resolveInnerReferences(b, inner); err != nil {
		return err
	}
	if inner.Distinct || (inner.SelectStmtOpts != nil && inner.SelectStmtOpts.Distinct) {
		// SELECT DISTINCT a, b is GROUP BY a, b: the outer query may then
		// read some of its columns without changing which rows exist.
		inner.Distinct = false
		if inner.SelectStmtOpts != nil {
			inner.SelectStmtOpts.Distinct = false
		}
		gb := &ast.GroupByClause{}
		for i := range cols.exprs {
			e, err := cloneExpr(b, cols.exprs[i])
			if err != nil {
				return err
			}
			gb.Items = append(gb.Items, &ast.ByItem{Expr: e, NullOrder: true})
		}
		inner.GroupBy = gb
	}
	if inner.Limit == nil && sel.OrderBy == nil {
		inner.OrderBy = nil // MySQL ignores a derived table's ORDER BY without LIMIT
	}
	// The outer query, written over the derived columns' expressions.
	if err := b.substituteDerived(sel, cols, true); err != nil {
		return err
	}
	grouped := inner.GroupBy != nil || findOwn(inner.Fields, isAggregate)
	if sel.Where != nil {
		for _, cond := range splitAnd(sel.Where, nil) {
			if grouped && (findOwn(cond, isAggregate) || !onlyGroupingColumns(cond, inner)) {
				inner.Having = andHaving(inner.Having, cond)
				continue
			}
			inner.Where = andExpr(inner.Where, cond)
		}
	}
	inner.Fields = sel.Fields
	if sel.OrderBy != nil {
		inner.OrderBy = sel.OrderBy
	}
	if sel.Limit != nil {
		inner.Limit = sel.Limit
	}
	*sel = *inner
	return nil
}

// resolveInnerReferences rewrites the derived table's GROUP BY, HAVING and
// ORDER BY so they no longer name its select list (positions and aliases),
// which the outer projection replaces.
func resolveInnerReferences(b *builder, inner *ast.SelectStmt) error {
	fields := inner.Fields.Fields
	known := map[string]bool{}
	if srcs, ok := b.knownSources(inner); ok {
		for _, s := range srcs {
			for _, c := range s.cols {
				known[strings.ToLower(c)] = true
			}
		}
	}
	var err error
	resolve := func(e ast.ExprNode, positions, preferAlias bool) ast.ExprNode {
		if p, ok := e.(*ast.PositionExpr); ok && positions && p.P == nil && p.N >= 1 && p.N <= len(fields) {
			c, cerr := cloneExpr(b, fields[p.N-1].Expr)
			if cerr != nil && err == nil {
				err = cerr
			}
			return c
		}
		r := &aliasResolver{b: b, fields: fields, known: known, preferAlias: preferAlias}
		n, _ := e.Accept(r)
		if r.err != nil && err == nil {
			err = r.err
		}
		return n.(ast.ExprNode)
	}
	if inner.GroupBy != nil {
		for _, it := range inner.GroupBy.Items {
			it.Expr = resolve(it.Expr, true, false)
		}
	}
	if inner.Having != nil {
		inner.Having.Expr = resolve(inner.Having.Expr, false, true)
	}
	if inner.OrderBy != nil {
		for _, it := range inner.OrderBy.Items {
			it.Expr = resolve(it.Expr, true, true)
		}
	}
	return err
}

// aliasResolver replaces unqualified names of select aliases by the
// aliased expression: always for an alias of an aggregate, else when the
// alias wins (ORDER BY, HAVING) or no column of the tables has the name.
type aliasResolver struct {
	b           *builder
	fields      []*ast.SelectField
	known       map[string]bool
	preferAlias bool
	err         error
}

func (r *aliasResolver) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.SubqueryExpr, *ast.ColumnNameExpr:
		return n, true
	}
	return n, false
}

func (r *aliasResolver) Leave(n ast.Node) (ast.Node, bool) {
	c, ok := n.(*ast.ColumnNameExpr)
	if !ok || c.Name.Table.O != "" {
		return n, true
	}
	for _, f := range r.fields {
		if f.AsName.L != c.Name.Name.L || f.AsName.O == "" {
			continue
		}
		if !r.preferAlias && !findOwn(f.Expr, isAggregate) && r.known[c.Name.Name.L] {
			return n, true
		}
		e, err := cloneExpr(r.b, f.Expr)
		if err != nil && r.err == nil {
			r.err = err
		}
		return &ast.ParenthesesExpr{Expr: e}, true
	}
	return n, true
}

// onlyGroupingColumns reports whether every column cond reads appears as
// a GROUP BY expression of inner (so filtering rows by it filters whole
// groups).
func onlyGroupingColumns(cond ast.ExprNode, inner *ast.SelectStmt) bool {
	if inner.GroupBy == nil || hasSubquery(cond) {
		return false
	}
	keys := map[string]bool{}
	for _, it := range inner.GroupBy.Items {
		if s, err := restore(unparen(it.Expr)); err == nil {
			keys[s] = true
		}
	}
	v := &columnLister{}
	cond.Accept(v)
	for _, c := range v.cols {
		s, err := restore(c)
		if err != nil || !keys[s] {
			return false
		}
	}
	return true
}

type columnLister struct{ cols []*ast.ColumnNameExpr }

func (v *columnLister) Enter(n ast.Node) (ast.Node, bool) {
	if c, ok := n.(*ast.ColumnNameExpr); ok {
		v.cols = append(v.cols, c)
		return n, true
	}
	return n, false
}

func (v *columnLister) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func cloneExpr(b *builder, e ast.ExprNode) (ast.ExprNode, error) {
	if c, ok := e.(*ast.ColumnNameExpr); ok {
		return &ast.ColumnNameExpr{Name: &ast.ColumnName{Schema: c.Name.Schema, Table: c.Name.Table, Name: c.Name.Name}}, nil
	}
	n, err := b.cloneNode(e)
	if err != nil {
		return nil, err
	}
	return n.(ast.ExprNode), nil
}

func andExpr(a, c ast.ExprNode) ast.ExprNode {
	if a == nil {
		return c
	}
	return &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: a}, R: &ast.ParenthesesExpr{Expr: c}}
}

func andHaving(h *ast.HavingClause, c ast.ExprNode) *ast.HavingClause {
	if h == nil {
		return &ast.HavingClause{Expr: c}
	}
	h.Expr = andExpr(h.Expr, c)
	return h
}
