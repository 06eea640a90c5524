package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardgate/shardgate/engine"
)

// extractSubqueries replaces the uncorrelated subqueries of sel — in
// WHERE, the select list, HAVING, GROUP BY and ORDER BY — with holes and
// plans each; they run once, first, and their values are bound into the
// outer query (engine.UncorrelatedSubquery). Correlated subqueries
// (naming a table of the outer query) that reach here are refused.
func (b *builder) extractSubqueries(sel *ast.SelectStmt) ([]engine.SubqueryInput, []foundSub, error) {
	if sel.From != nil && sel.From.TableRefs != nil && findNode(sel.From.TableRefs, isSelectOrSubquery) {
		return nil, nil, unsupported("derived tables and subqueries in FROM across shards")
	}
	outer := outerNames(sel)
	lister := &subqueryLister{}
	sel.Accept(lister)
	for _, q := range lister.queries {
		if correlated(q, outer) {
			return nil, nil, unsupported("correlated subqueries across shards")
		}
	}
	v := &subqueryExtractor{owned: map[*ast.SubqueryExpr]bool{}, next: b.nparams}
	extract := func(e ast.ExprNode) ast.ExprNode {
		if e == nil || v.err != nil || !hasSubquery(e) {
			return e
		}
		n, _ := e.Accept(v)
		return n.(ast.ExprNode)
	}
	sel.Where = extract(sel.Where)
	for _, f := range sel.Fields.Fields {
		if f.Expr != nil && f.AsName.O == "" && hasSubquery(f.Expr) {
			// MySQL names the column by the text as written; the shards
			// would name it by the bound value.
			if text := strings.TrimSpace(f.Text()); text != "" {
				f.AsName = ast.NewCIStr(text)
			}
		}
		f.Expr = extract(f.Expr)
	}
	if sel.GroupBy != nil {
		for _, it := range sel.GroupBy.Items {
			it.Expr = extract(constantKey(it.Expr))
		}
	}
	if sel.Having != nil {
		if err := scalarOnly(sel.Having.Expr, "HAVING"); err != nil {
			return nil, nil, err
		}
		sel.Having.Expr = extract(sel.Having.Expr)
	}
	if sel.OrderBy != nil {
		for _, it := range sel.OrderBy.Items {
			it.Expr = extract(constantKey(it.Expr))
		}
	}
	if v.err != nil {
		return nil, nil, v.err
	}
	var subs []engine.SubqueryInput
	for i := range v.found {
		f := &v.found[i]
		p, err := b.buildSelect(f.query)
		if err != nil {
			return nil, nil, err
		}
		f.in.Input = p
		subs = append(subs, f.in)
	}
	return subs, v.found, nil
}

// constantKey wraps a GROUP BY or ORDER BY term that is a whole subquery
// in COALESCE: its value, bound as a literal, must not read as a column
// position (`order by 2`).
func constantKey(e ast.ExprNode) ast.ExprNode {
	if _, ok := unparen(e).(*ast.SubqueryExpr); !ok {
		return e
	}
	return &ast.FuncCallExpr{FnName: ast.NewCIStr("coalesce"), Args: []ast.ExprNode{e}}
}

// scalarOnly refuses subqueries other than scalar ones in a clause the
// gateway may evaluate itself (HAVING over merged groups): it computes
// with a scalar subquery's value, but an IN list or an EXISTS is SQL
// text only a shard reads.
func scalarOnly(e ast.ExprNode, clause string) error {
	if findNode(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.PatternInExpr:
			return x.Sel != nil
		case *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
			return true
		}
		return false
	}) {
		return unsupportedf("IN, EXISTS, ANY and ALL subqueries in %s across shards", clause)
	}
	return nil
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

// subqueryExtractor replaces IN (subquery), EXISTS (subquery), ANY/ALL
// and scalar subqueries with argument holes numbered from next.
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
		if s, ok := x.R.(*ast.SubqueryExpr); ok {
			v.owned[s] = true
		}
	case *ast.SubqueryExpr:
		return n, true
	}
	return n, false
}

// hole records a subquery (a SELECT or a UNION) and returns the hole
// that takes its place.
func (v *subqueryExtractor) hole(q ast.ResultSetNode, in engine.SubqueryInput) *holeExpr {
	h := newHoleExpr(engine.HoleParam(v.next))
	stmt, ok := q.(ast.StmtNode)
	if !ok {
		v.err = errInternal("subquery of type %T", q)
		return h
	}
	v.found = append(v.found, foundSub{query: stmt, in: in, hole: h})
	v.next++
	return h
}

// comparisonText is the SQL of a comparison operator of ANY/ALL.
func comparisonText(op opcode.Op) (string, bool) {
	switch op {
	case opcode.EQ:
		return "=", true
	case opcode.NE:
		return "<>", true
	case opcode.LT:
		return "<", true
	case opcode.LE:
		return "<=", true
	case opcode.GT:
		return ">", true
	case opcode.GE:
		return ">=", true
	}
	return "", false
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
		return v.in(x.Expr, s, x.Not), true
	case *ast.CompareSubqueryExpr:
		s, ok := x.R.(*ast.SubqueryExpr)
		if !ok {
			return n, true
		}
		op, ok := comparisonText(x.Op)
		if !ok {
			v.err = unsupported("ANY, SOME and ALL subqueries with this operator across shards")
			return n, true
		}
		// = ANY is IN and <> ALL is NOT IN, NULLs included.
		if op == "=" && !x.All {
			return v.in(x.L, s, false), true
		}
		if op == "<>" && x.All {
			return v.in(x.L, s, true), true
		}
		if _, isRow := x.L.(*ast.RowExpr); isRow {
			v.err = unsupported("row comparisons with ANY, SOME and ALL subqueries across shards")
			return n, true
		}
		left, err := restore(x.L)
		if err != nil {
			v.err = err
			return n, true
		}
		kind := engine.SubAny
		if x.All {
			kind = engine.SubAll
		}
		return v.hole(s.Query, engine.SubqueryInput{Kind: kind, Op: op, Left: left}), true
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
		h := v.hole(x.Query, engine.SubqueryInput{Kind: engine.SubScalar})
		return &scalarHole{holeExpr: h, param: v.next - 1}, true
	}
	return n, true
}

// in replaces `left [NOT] IN (subquery)`; a row on the left compares
// rows, the subquery's columns one by one.
func (v *subqueryExtractor) in(l ast.ExprNode, s *ast.SubqueryExpr, not bool) ast.Node {
	left, err := restore(l)
	if err != nil {
		v.err = err
		return l
	}
	in := engine.SubqueryInput{Kind: engine.SubIn, Not: not, Left: left}
	if row, isRow := l.(*ast.RowExpr); isRow {
		in.Cols = len(row.Values)
	}
	h := v.hole(s.Query, in)
	if in.Cols == 0 && v.err == nil {
		v.found[len(v.found)-1].left = l
	}
	return h
}

// scalarHole is the hole of a scalar subquery: its value is rendered
// into shard queries like any hole's, and the gateway's evaluator reads
// it as argument param (HAVING, select-list expressions over aggregates).
type scalarHole struct {
	*holeExpr
	param int
}

// Accept implements ast.Node: a hole is a leaf.
func (h *scalarHole) Accept(v ast.Visitor) (ast.Node, bool) {
	n, _ := v.Enter(h)
	return v.Leave(n)
}
