package planner

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
)

// Correlated subqueries that are not co-located are evaluated at the
// gateway as a semi-join (EXISTS, IN) or anti-join (NOT EXISTS, NOT IN):
// the outer query runs without them, with the outer columns they read
// appended as hidden columns, and for each outer row each subquery runs
// with those columns bound as arguments (Vitess's join variables). A
// subquery that ties its vindex column to an outer column is routed to the
// one shard owning the value.
//
// Only AND-ed conjuncts of WHERE are taken: there a condition that is NULL
// drops the row exactly as FALSE does, so
//
//	x IN (select e from t where c)      = EXISTS (select 1 from t where c and e = x)
//	x NOT IN (select e from t where c)  = NOT EXISTS (select 1 from t where c and (e = x or e is null or x is null))
//
// keep the same rows as MySQL (NOT IN over an empty set is true whatever x
// is; over a set holding a NULL it is never true). The comparison e = x
// runs on the shard, so types and collations are MySQL's.

// correlatedConjunct is one AND-ed condition of WHERE taken into a semi-join.
type correlatedConjunct struct {
	group int // the AND-ed condition it belongs to
	not   bool
	query *ast.SelectStmt
	left  ast.ExprNode // IN: the left operand (an outer expression); nil for EXISTS
}

// semiJoin plans sel when its WHERE has correlated subqueries that the
// gateway can evaluate; ok is false (and sel untouched) when it has none or
// a correlated subquery stands elsewhere than as an AND-ed conjunct.
func (b *builder) semiJoin(sel *ast.SelectStmt) (engine.Primitive, bool, error) {
	if sel.From != nil && sel.From.TableRefs != nil && findNode(sel.From.TableRefs, isSelectOrSubquery) {
		return nil, false, nil
	}
	outer := outerNames(sel)
	// Uncorrelated subqueries outside WHERE are the outer query's own
	// (extractSubqueries binds their values); correlated ones there are not
	// taken.
	if (sel.Having != nil && hasCorrelated(sel.Having, outer)) || (sel.OrderBy != nil && hasCorrelated(sel.OrderBy, outer)) ||
		(sel.GroupBy != nil && hasCorrelated(sel.GroupBy, outer)) {
		return nil, false, nil
	}
	var taken []correlatedConjunct
	var rest []ast.ExprNode
	var flags []orFlag
	groups := 0
	for _, c := range splitAnd(sel.Where, nil) { // nil WHERE: no conjunct
		cc, ok := asCorrelatedConjunct(c, outer)
		if ok {
			cc.group = groups
			groups++
			taken = append(taken, cc)
			continue
		}
		if ccs, fs, ok := correlatedOr(c, outer, groups); ok {
			groups++
			taken = append(taken, ccs...)
			flags = append(flags, fs...)
			continue
		}
		lister := &subqueryLister{}
		c.Accept(lister)
		for _, q := range lister.queries {
			if correlated(q, outer) {
				return nil, false, nil
			}
		}
		rest = append(rest, c)
	}
	// Beside * (where * ends is known only when rows come) an uncorrelated
	// subquery is bound once like a grouped query's.
	grouped := sel.GroupBy != nil || sel.Having != nil || sel.Distinct || findOutsideSubqueries(sel.Fields, isAggregate) ||
		slices.ContainsFunc(sel.Fields.Fields, func(f *ast.SelectField) bool { return f.WildCard != nil })
	values, ok := scalarFields(sel, outer, grouped)
	if !ok || len(taken)+len(values) == 0 {
		return nil, false, nil
	}
	// Rows are filtered after the outer query: it must not group, count or
	// de-duplicate them first.
	distinct := len(taken) > 0 && semiJoinDistinct(sel, values)
	if sel.GroupBy != nil || sel.Having != nil || (sel.Distinct && !distinct) || findOutsideSubqueries(sel.Fields, isAggregate) ||
		findOutsideSubqueries(sel.Fields, isWindowFunc) || (sel.OrderBy != nil && findOutsideSubqueries(sel.OrderBy, isAggregate)) ||
		sel.WindowSpecs != nil || sel.LockInfo != nil || sel.SelectIntoOpt != nil {
		if len(taken) == 0 {
			return nil, false, unsupported("subqueries outside WHERE across shards")
		}
		return nil, false, unsupported("correlated subqueries across shards")
	}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil && len(values) > 0 {
			// Where * ends is known only when the rows come.
			return nil, false, unsupported("subqueries in the select list with * across shards")
		}
		if f.WildCard != nil && f.WildCard.Table.O == "" && isJoin(sel) {
			// The hidden columns would follow a * the join may not expand.
			return nil, false, unsupported("correlated subqueries across shards")
		}
	}
	var limit *engine.LimitSpec
	if sel.Limit != nil {
		spec, err := limitOf(sel.Limit)
		if err != nil {
			return nil, false, err
		}
		limit = spec
	}

	// Join variables: each distinct outer column (and IN left operand) a
	// subquery reads, appended to the outer select list.
	vars := &joinVars{base: b.nparams, index: map[string]int{}}
	subs := make([]engine.SemiJoinInput, len(taken))
	inners := make([]*ast.SelectStmt, len(taken))
	for i, cc := range taken {
		inner, err := vars.bind(cc, outer)
		if err != nil {
			return nil, false, err
		}
		inners[i] = inner
		subs[i] = engine.SemiJoinInput{Not: cc.not, Group: cc.group}
	}
	vals := make([]engine.SemiJoinValue, len(values))
	valueInners := make([]*ast.SelectStmt, len(values))
	for i, v := range values {
		inner, err := vars.bindScalar(v.query, outer)
		if err != nil {
			return nil, false, err
		}
		valueInners[i] = inner
		vals[i] = engine.SemiJoinValue{Col: v.col, Name: v.name}
		// The outer query keeps the column's place with a NULL.
		sel.Fields.Fields[v.col] = &ast.SelectField{Expr: newValueExpr(nil, "", ""), AsName: ast.NewCIStr(v.name)}
	}
	// ORDER BY a subquery column: the gateway sorts after the SemiJoin.
	sortKeys, sortTrim, err := semiJoinOrder(sel, values)
	if err != nil {
		return nil, false, err
	}
	var dedup *engine.Concatenate
	if distinct {
		if dedup, err = distinctAfter(sel); err != nil {
			return nil, false, err
		}
	}
	// The inner queries' own uncorrelated subqueries number their holes
	// after the join variables.
	saved := b.nparams
	b.nparams += len(vars.exprs)
	for i, inner := range inners {
		p, err := b.buildSelect(inner)
		if err != nil {
			b.nparams = saved
			return nil, false, err
		}
		subs[i].Input = p
	}
	for i, inner := range valueInners {
		p, err := b.buildSelect(inner)
		if err != nil {
			b.nparams = saved
			return nil, false, err
		}
		vals[i].Input = p
	}
	b.nparams = saved

	for _, e := range vars.exprs {
		sel.Fields.Fields = append(sel.Fields.Fields, &ast.SelectField{Expr: e})
	}
	flagGroups := make([]int, len(flags))
	for i, f := range flags {
		sel.Fields.Fields = append(sel.Fields.Fields, &ast.SelectField{Expr: &ast.IsTruthExpr{Expr: &ast.ParenthesesExpr{Expr: f.term}, True: 1}})
		flagGroups[i] = f.group
	}
	sel.Where = andOf(rest)
	sel.Limit = nil
	b.rewritten = true
	outerPlan, err := b.buildSelect(sel)
	if err != nil {
		return nil, false, err
	}
	sj := &engine.SemiJoin{Outer: outerPlan, Subs: subs, Values: vals, Vars: len(vars.exprs), Flags: flagGroups, NParams: b.nparams, Limit: limit}
	if dedup != nil {
		sj.Limit = nil
		dedup.Sources = []engine.Primitive{sj}
		if limit == nil {
			return dedup, true, nil
		}
		return &engine.Limit{Input: dedup, Spec: *limit}, true, nil
	}
	if sortKeys == nil {
		return sj, true, nil
	}
	// Sorted at the gateway: LIMIT applies to the sorted rows.
	sj.Limit = nil
	var top engine.Primitive = &engine.MemorySort{Input: sj, Keys: sortKeys, Trim: sortTrim}
	if limit != nil {
		top = &engine.Limit{Input: top, Spec: *limit}
	}
	return top, true, nil
}

// outerNames lists the tables and aliases of sel's FROM, lower-cased.
func outerNames(sel *ast.SelectStmt) map[string]bool {
	outer := map[string]bool{}
	if sel.From != nil {
		for _, tn := range collectTables(sel.From) {
			outer[strings.ToLower(tn.Name.O)] = true
		}
		sel.From.Accept(&aliasCollector{names: outer})
	}
	return outer
}

// asCorrelatedConjunct recognises [NOT] EXISTS (subquery) and x [NOT] IN
// (subquery) whose subquery reads outer columns.
func asCorrelatedConjunct(c ast.ExprNode, outer map[string]bool) (correlatedConjunct, bool) {
	not := false
	for {
		if p, ok := c.(*ast.ParenthesesExpr); ok {
			c = p.Expr
			continue
		}
		if u, ok := c.(*ast.UnaryOperationExpr); ok && u.Op == opcode.Not {
			not = !not
			c = u.V
			continue
		}
		break
	}
	var cc correlatedConjunct
	var q ast.ResultSetNode
	switch x := c.(type) {
	case *ast.ExistsSubqueryExpr:
		s, ok := x.Sel.(*ast.SubqueryExpr)
		if !ok {
			return cc, false
		}
		q, cc.not = s.Query, x.Not != not
	case *ast.PatternInExpr:
		s, ok := x.Sel.(*ast.SubqueryExpr)
		if !ok {
			return cc, false
		}
		if _, isRow := x.Expr.(*ast.RowExpr); isRow {
			return cc, false
		}
		q, cc.not, cc.left = s.Query, x.Not != not, x.Expr
	default:
		return cc, false
	}
	stmt, ok := q.(*ast.SelectStmt)
	if !ok || !correlated(stmt, outer) {
		return cc, false
	}
	cc.query = stmt
	return cc, true
}

// joinVars numbers the outer expressions the inner queries read: variable
// k is argument base+k of an inner query and hidden outer column k.
type joinVars struct {
	base  int
	index map[string]int
	exprs []ast.ExprNode
}

func (v *joinVars) add(key string, e ast.ExprNode) int {
	if k, ok := v.index[key]; ok {
		return k
	}
	v.index[key] = len(v.exprs)
	v.exprs = append(v.exprs, e)
	return len(v.exprs) - 1
}

func (v *joinVars) marker(k int) *paramMarker {
	m := newParamMarker(-1).(*paramMarker)
	m.index = v.base + k
	return m
}

// bind rewrites a correlated conjunct's subquery into the inner query of
// an [anti-]semi-join: outer columns become join variables and IN becomes
// EXISTS with the comparison inside.
func (v *joinVars) bind(cc correlatedConjunct, outer map[string]bool) (*ast.SelectStmt, error) {
	inner := cc.query
	var left *paramMarker
	if cc.left != nil {
		if inner.Fields == nil || len(inner.Fields.Fields) != 1 || inner.Fields.Fields[0].WildCard != nil {
			return nil, unsupported("correlated subqueries across shards")
		}
		// MySQL refuses LIMIT in an IN subquery itself (1235).
		if inner.Limit != nil || findNode(inner.Fields, isWindowFunc) {
			return nil, unsupported("correlated subqueries across shards")
		}
		if hasSubquery(cc.left) || !onlyOuterColumns(cc.left, outer) {
			return nil, unsupported("correlated subqueries across shards")
		}
		text, err := restore(cc.left)
		if err != nil {
			return nil, err
		}
		left = v.marker(v.add("expr:"+text, cc.left))
	}
	own := map[string]bool{}
	for _, tn := range collectTables(inner) {
		own[strings.ToLower(tn.Name.O)] = true
	}
	inner.Accept(&aliasCollector{names: own})
	r := &outerColumnBinder{outer: outer, own: own, vars: v}
	n, _ := inner.Accept(r)
	inner = n.(*ast.SelectStmt)
	if r.err != nil {
		return nil, r.err
	}
	if left != nil {
		e := inner.Fields.Fields[0].Expr
		cond := ast.ExprNode(&ast.BinaryOperationExpr{Op: opcode.EQ, L: e, R: left})
		if cc.not {
			again := v.marker(left.index - v.base)
			cond = &ast.BinaryOperationExpr{Op: opcode.LogicOr, L: cond, R: &ast.BinaryOperationExpr{Op: opcode.LogicOr,
				L: &ast.IsNullExpr{Expr: e}, R: &ast.IsNullExpr{Expr: again}}}
			cond = &ast.ParenthesesExpr{Expr: cond}
		}
		switch {
		case inner.GroupBy != nil || inner.Having != nil || findOutsideSubqueries(inner.Fields, isAggregate):
			// A grouped or aggregated subquery's value exists per group:
			// the comparison is a condition on the group, so it goes to
			// HAVING (over no rows a scalar aggregate still has its one
			// row, which HAVING keeps or drops as MySQL's IN would).
			if inner.Having == nil {
				inner.Having = &ast.HavingClause{Expr: cond}
			} else {
				inner.Having.Expr = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: inner.Having.Expr}, R: cond}
			}
		case inner.Where == nil:
			inner.Where = cond
		default:
			inner.Where = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: inner.Where}, R: cond}
		}
		inner.Fields.Fields[0] = &ast.SelectField{Expr: newValueExpr(int64(1), "", "")}
		inner.Distinct = false
		inner.OrderBy = nil
	}
	if inner.Limit == nil {
		// One row decides EXISTS: no shard sends more.
		inner.Limit = &ast.Limit{Count: newValueExpr(int64(1), "", "")}
	}
	return inner, nil
}

// onlyOuterColumns reports whether every column e reads is qualified by an
// outer table (so it can be computed on the outer row).
func onlyOuterColumns(e ast.ExprNode, outer map[string]bool) bool {
	for _, c := range columnsOfStmt(e) {
		if !outer[strings.ToLower(c.Table.O)] {
			return false
		}
	}
	return true
}

// outerColumnBinder replaces the columns of outer tables in an inner query
// with join-variable markers.
type outerColumnBinder struct {
	outer, own map[string]bool
	vars       *joinVars
	err        error
}

func (r *outerColumnBinder) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (r *outerColumnBinder) Leave(n ast.Node) (ast.Node, bool) {
	c, ok := n.(*ast.ColumnNameExpr)
	if !ok {
		return n, true
	}
	t := strings.ToLower(c.Name.Table.O)
	if t == "" || r.own[t] || !r.outer[t] {
		return n, true
	}
	key := "col:" + t + "." + strings.ToLower(c.Name.Name.O)
	return r.vars.marker(r.vars.add(key, &ast.ColumnNameExpr{Name: c.Name})), true
}

// andOf joins conditions with AND; nil for none.
func andOf(cs []ast.ExprNode) ast.ExprNode {
	var out ast.ExprNode
	for _, c := range cs {
		if out == nil {
			out = &ast.ParenthesesExpr{Expr: c}
			continue
		}
		out = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: out, R: &ast.ParenthesesExpr{Expr: c}}
	}
	return out
}

// scalarField is a select-list column that is a subquery.
type scalarField struct {
	col   int
	name  string // the column's name: its alias, else its text
	query *ast.SelectStmt
}

// scalarFields lists the select-list columns that are exactly a scalar
// subquery; ok is false when a correlated subquery stands inside another
// expression. Uncorrelated subqueries inside expressions, and all of a
// grouped query's, are left to the outer query (extractSubqueries binds
// their values once).
func scalarFields(sel *ast.SelectStmt, outer map[string]bool, grouped bool) ([]scalarField, bool) {
	var out []scalarField
	for i, f := range sel.Fields.Fields {
		if f.Expr == nil || !findNode(f.Expr, isSubquery) {
			continue
		}
		sq, ok := unparen(f.Expr).(*ast.SubqueryExpr)
		if (!ok || grouped) && !hasCorrelated(f.Expr, outer) {
			continue
		}
		if !ok {
			return nil, false
		}
		q, ok := sq.Query.(*ast.SelectStmt)
		if !ok {
			return nil, false
		}
		name := f.AsName.O
		if name == "" {
			name = strings.TrimSpace(f.Text())
		}
		if name == "" {
			return nil, false
		}
		out = append(out, scalarField{col: i, name: name, query: q})
	}
	return out, true
}

// refersTo reports whether ORDER BY names output column col (by position
// or by its name).
func refersTo(order *ast.OrderByClause, col int, name string) bool {
	if order == nil {
		return false
	}
	for _, it := range order.Items {
		if p, ok := it.Expr.(*ast.PositionExpr); ok && (p.P != nil || p.N == col+1) {
			return true
		}
		if c, ok := unparen(it.Expr).(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" && strings.EqualFold(c.Name.Name.O, name) {
			return true
		}
	}
	return false
}

// bindScalar rewrites a select-list subquery into the inner query of a
// SemiJoinValue: outer columns become join variables, and no shard sends
// more than the two rows that tell one row from too many.
func (v *joinVars) bindScalar(inner *ast.SelectStmt, outer map[string]bool) (*ast.SelectStmt, error) {
	own := map[string]bool{}
	for _, tn := range collectTables(inner) {
		own[strings.ToLower(tn.Name.O)] = true
	}
	inner.Accept(&aliasCollector{names: own})
	r := &outerColumnBinder{outer: outer, own: own, vars: v}
	n, _ := inner.Accept(r)
	if r.err != nil {
		return nil, r.err
	}
	inner = n.(*ast.SelectStmt)
	if inner.Limit == nil {
		inner.Limit = &ast.Limit{Count: newValueExpr(int64(2), "", "")}
	}
	return inner, nil
}

// findOutsideSubqueries is findNode that does not look inside subqueries
// (their aggregates are their own).
func findOutsideSubqueries(n ast.Node, match func(ast.Node) bool) bool {
	v := &outsideFinder{match: match}
	n.Accept(v)
	return v.found
}

type outsideFinder struct {
	match func(ast.Node) bool
	found bool
}

func (v *outsideFinder) Enter(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.SubqueryExpr); ok {
		return n, true
	}
	if v.found || v.match(n) {
		v.found = true
		return n, true
	}
	return n, false
}

func (v *outsideFinder) Leave(n ast.Node) (ast.Node, bool) { return n, !v.found }

// orFlag is an outer-only term of an OR that also holds correlated
// subqueries: the outer query computes `(term) IS TRUE` for it.
type orFlag struct {
	group int
	term  ast.ExprNode
}

// correlatedOr takes an OR whose terms are correlated [NOT] EXISTS / [NOT]
// IN subqueries or conditions on the outer row alone (without subqueries).
// In WHERE the OR keeps a row exactly when one term is true, and each
// rewritten subquery is true exactly when the original is.
func correlatedOr(c ast.ExprNode, outer map[string]bool, group int) ([]correlatedConjunct, []orFlag, bool) {
	var terms []ast.ExprNode
	var split func(e ast.ExprNode)
	split = func(e ast.ExprNode) {
		e = unparen(e)
		if b, ok := e.(*ast.BinaryOperationExpr); ok && (b.Op == opcode.LogicOr) {
			split(b.L)
			split(b.R)
			return
		}
		terms = append(terms, e)
	}
	split(c)
	if len(terms) < 2 {
		return nil, nil, false
	}
	var ccs []correlatedConjunct
	var fs []orFlag
	for _, t := range terms {
		if cc, ok := asCorrelatedConjunct(t, outer); ok {
			cc.group = group
			ccs = append(ccs, cc)
			continue
		}
		if hasSubquery(t) {
			return nil, nil, false
		}
		fs = append(fs, orFlag{group: group, term: t})
	}
	return ccs, fs, len(ccs) > 0
}

// hasCorrelated reports whether n holds a subquery that reads a column
// of outer.
func hasCorrelated(n ast.Node, outer map[string]bool) bool {
	lister := &subqueryLister{}
	n.Accept(lister)
	for _, q := range lister.queries {
		if correlated(q, outer) {
			return true
		}
	}
	return false
}
