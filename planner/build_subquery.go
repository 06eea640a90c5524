package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
)

// extractSubqueries replaces the subqueries of sel's WHERE with holes and
// plans each; nil when WHERE has none. Correlated subqueries (naming a
// table of the outer query) and subqueries elsewhere are refused.
func (b *builder) extractSubqueries(sel *ast.SelectStmt) ([]engine.SubqueryInput, []foundSub, error) {
	if findNode(sel.Fields, isSubquery) || (sel.Having != nil && findNode(sel.Having, isSubquery)) ||
		(sel.OrderBy != nil && findNode(sel.OrderBy, isSubquery)) || (sel.GroupBy != nil && findNode(sel.GroupBy, isSubquery)) {
		return nil, nil, unsupported("subqueries outside WHERE across shards")
	}
	if sel.From != nil && sel.From.TableRefs != nil && findNode(sel.From.TableRefs, isSelectOrSubquery) {
		return nil, nil, unsupported("derived tables and subqueries in FROM across shards")
	}
	if sel.Where == nil {
		return nil, nil, nil
	}
	outer := map[string]bool{}
	if sel.From != nil {
		for _, tn := range collectTables(sel.From) {
			outer[strings.ToLower(tn.Name.O)] = true
		}
		sel.From.Accept(&aliasCollector{names: outer})
	}
	v := &subqueryExtractor{owned: map[*ast.SubqueryExpr]bool{}, next: b.nparams}
	w, _ := sel.Where.Accept(v)
	if v.err != nil {
		return nil, nil, v.err
	}
	var subs []engine.SubqueryInput
	for i := range v.found {
		f := &v.found[i]
		if correlated(f.query, outer) {
			return nil, nil, unsupported("correlated subqueries across shards")
		}
		p, err := b.buildSelect(f.query)
		if err != nil {
			return nil, nil, err
		}
		f.in.Input = p
		subs = append(subs, f.in)
	}
	sel.Where = w.(ast.ExprNode)
	return subs, v.found, nil
}

// routeBySubquery makes the outer query of `col IN (subquery)`, when col
// is the primary vindex column of its only (sharded) table and nothing
// else routes it, go only to the shards owning the subquery's values. It
// reports whether it did, having built the outer plan with build (which
// is not called otherwise).
func (b *builder) routeBySubquery(sel *ast.SelectStmt, subs []engine.SubqueryInput, found []foundSub, build func() (engine.Primitive, error)) (engine.Primitive, bool, error) {
	p, err := b.place(sel)
	if err != nil {
		return nil, false, nil
	}
	srcs, single := fromSources(sel, p)
	if !single || p.ks == nil || !p.ks.Sharded || srcs[0].ref.table.Type == "reference" {
		return nil, false, nil
	}
	src := &srcs[0]
	col, _, ok := primaryVindex(src.ref.table)
	if !ok || routeByWhere(sel.Where, src, true).opcode != engine.Scatter {
		return nil, false, nil
	}
	for i := range found {
		f := &found[i]
		if f.in.Kind != engine.SubIn || f.in.Not || f.left == nil || !isVindexColumn(f.left, src, true, col) {
			continue
		}
		text := f.hole.text
		f.hole.text = f.in.Left + " in (" + engine.HoleValsText + ")"
		outer, err := build()
		if err != nil {
			return nil, false, err
		}
		var routes []*engine.Route
		collectRoutes(outer, &routes)
		if len(routes) == 1 && routes[0].Opcode == engine.Scatter && routes[0].Keyspace == p.ks.Name {
			rt := routes[0]
			rt.Opcode, rt.SubValues = engine.IN, b.nparams+i+1
			_, rt.Vindex, _ = primaryVindex(src.ref.table)
			subs[i].AsValues = true
			return outer, true, nil
		}
		f.hole.text = text
		// A single sharded table that nothing else routes always plans to
		// one scatter Route; the AST is spent, so this cannot fall back.
		return nil, false, errInternal("IN subquery: outer plan has %d routes", len(routes))
	}
	return nil, false, nil
}

func collectRoutes(p engine.Primitive, out *[]*engine.Route) {
	if r, ok := p.(*engine.Route); ok {
		*out = append(*out, r)
	}
	for _, in := range p.Inputs() {
		collectRoutes(in, out)
	}
}

func isSelectOrSubquery(n ast.Node) bool {
	switch n.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.SubqueryExpr:
		return true
	}
	return false
}

func isSubquery(n ast.Node) bool {
	_, ok := n.(*ast.SubqueryExpr)
	return ok
}

type aliasCollector struct{ names map[string]bool }

func (a *aliasCollector) Enter(n ast.Node) (ast.Node, bool) {
	if ts, ok := n.(*ast.TableSource); ok && ts.AsName.O != "" {
		a.names[strings.ToLower(ts.AsName.O)] = true
	}
	return n, false
}

func (a *aliasCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// correlated reports whether a subquery names a column qualified by an
// outer table that it does not read itself.
func correlated(q ast.StmtNode, outer map[string]bool) bool {
	own := map[string]bool{}
	for _, tn := range collectTables(q) {
		own[strings.ToLower(tn.Name.O)] = true
	}
	q.Accept(&aliasCollector{names: own})
	for _, r := range columnsOfStmt(q) {
		t := strings.ToLower(r.Table.O)
		if t != "" && !own[t] && outer[t] {
			return true
		}
	}
	return false
}

func columnsOfStmt(n ast.Node) []*ast.ColumnName {
	v := &allColumns{}
	n.Accept(v)
	return v.cols
}

type allColumns struct{ cols []*ast.ColumnName }

func (v *allColumns) Enter(n ast.Node) (ast.Node, bool) {
	if c, ok := n.(*ast.ColumnNameExpr); ok {
		v.cols = append(v.cols, c.Name)
	}
	return n, false
}

func (v *allColumns) Leave(n ast.Node) (ast.Node, bool) { return n, true }

type foundSub struct {
	query ast.StmtNode
	in    engine.SubqueryInput
	hole  *holeExpr
	left  ast.ExprNode // IN: the left operand
}

// subqueryExtractor replaces IN (subquery), EXISTS (subquery) and scalar
// subqueries with argument holes numbered from next.
type subqueryExtractor struct {
	owned map[*ast.SubqueryExpr]bool
	found []foundSub
	next  int
	err   error
}

func (v *subqueryExtractor) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.PatternInExpr:
		if s, ok := x.Sel.(*ast.SubqueryExpr); ok {
			v.owned[s] = true
		}
	case *ast.ExistsSubqueryExpr:
		if s, ok := x.Sel.(*ast.SubqueryExpr); ok {
			v.owned[s] = true
		}
	case *ast.CompareSubqueryExpr:
		v.err = unsupported("ANY, SOME and ALL subqueries across shards")
		return n, true
	case *ast.SubqueryExpr:
		return n, true
	}
	return n, false
}

func (v *subqueryExtractor) hole(q ast.ResultSetNode, in engine.SubqueryInput) ast.Node {
	stmt, ok := q.(*ast.SelectStmt)
	if !ok {
		if v.err == nil {
			v.err = unsupported("UNION inside a subquery across shards")
		}
		return newHoleExpr(engine.HoleParam(v.next))
	}
	h := newHoleExpr(engine.HoleParam(v.next))
	v.found = append(v.found, foundSub{query: stmt, in: in, hole: h})
	v.next++
	return h
}

func (v *subqueryExtractor) Leave(n ast.Node) (ast.Node, bool) {
	if v.err != nil {
		return n, true
	}
	switch x := n.(type) {
	case *ast.PatternInExpr:
		s, ok := x.Sel.(*ast.SubqueryExpr)
		if !ok {
			return n, true
		}
		left, err := restore(x.Expr)
		if err != nil {
			v.err = err
			return n, true
		}
		if _, isRow := x.Expr.(*ast.RowExpr); isRow {
			v.err = unsupported("row IN (subquery) across shards")
			return n, true
		}
		h := v.hole(s.Query, engine.SubqueryInput{Kind: engine.SubIn, Not: x.Not, Left: left})
		if len(v.found) > 0 && v.found[len(v.found)-1].hole == h {
			v.found[len(v.found)-1].left = x.Expr
		}
		return h, true
	case *ast.ExistsSubqueryExpr:
		s, ok := x.Sel.(*ast.SubqueryExpr)
		if !ok {
			return n, true
		}
		return v.hole(s.Query, engine.SubqueryInput{Kind: engine.SubExists, Not: x.Not}), true
	case *ast.SubqueryExpr:
		if v.owned[x] {
			return n, true
		}
		return v.hole(x.Query, engine.SubqueryInput{Kind: engine.SubScalar}), true
	}
	return n, true
}
