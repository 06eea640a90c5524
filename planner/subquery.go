package planner

import (
	"context"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Uncorrelated subqueries in WHERE that do not stay on one shard are run
// first, and their values written into the outer query: `x IN (select
// ...)` becomes `x in (1, 2)` (or 0 when the subquery is empty), `x =
// (select ...)` a literal, EXISTS 1 or 0. The outer plan is built with
// holes for them that are filled from extra arguments after the
// statement's own.

type subKind int

const (
	subIn subKind = iota
	subExists
	subScalar
)

// rawSQL is an argument rendered into a template as it is.
type rawSQL string

// SubqueryInput is one subquery run before the outer query.
type SubqueryInput struct {
	Kind  subKind
	Not   bool
	Left  string // IN: the rendered left operand
	Input Primitive
}

// UncorrelatedSubquery runs its subqueries, then Outer with their values.
type UncorrelatedSubquery struct {
	Subs    []SubqueryInput
	Outer   Primitive
	NParams int // the statement's own arguments; subquery values follow
}

var _ Primitive = (*UncorrelatedSubquery)(nil)

func (u *UncorrelatedSubquery) outerArgs(ctx context.Context, vc VCursor, args []any) ([]any, error) {
	if len(args) < u.NParams {
		return nil, errWrongArgs(u.NParams, len(args))
	}
	out := append(args[:u.NParams:u.NParams], make([]any, len(u.Subs))...)
	for i, s := range u.Subs {
		r, err := s.Input.Execute(ctx, vc, args)
		if err != nil {
			return nil, err
		}
		v, err := s.value(r)
		if err != nil {
			return nil, err
		}
		out[u.NParams+i] = v
	}
	return out, nil
}

// value renders a subquery's result as the SQL that replaces it.
func (s SubqueryInput) value(r *Result) (rawSQL, error) {
	switch s.Kind {
	case subExists:
		if (len(r.Rows) > 0) != s.Not {
			return "1", nil
		}
		return "0", nil
	}
	if len(r.Fields) != 1 {
		return "", mysql.NewError(mysql.ER_OPERAND_COLUMNS, "Operand should contain 1 column(s)")
	}
	kind := sortKindOf(r.Fields[0])
	lit := func(v []byte) string {
		if v == nil {
			return "null"
		}
		return literalOf(v, kind).sql
	}
	if s.Kind == subScalar {
		switch len(r.Rows) {
		case 0:
			return "null", nil
		case 1:
			return rawSQL(lit(r.Rows[0][0])), nil
		}
		return "", mysql.NewError(mysql.ER_SUBQUERY_NO_1_ROW, "Subquery returns more than 1 row")
	}
	if len(r.Rows) == 0 {
		if s.Not {
			return "1", nil
		}
		return "0", nil
	}
	var sb strings.Builder
	sb.WriteString(s.Left)
	if s.Not {
		sb.WriteString(" not")
	}
	sb.WriteString(" in (")
	seen := map[string]bool{}
	first := true
	for _, row := range r.Rows {
		l := lit(row[0])
		if seen[l] {
			continue
		}
		seen[l] = true
		if !first {
			sb.WriteString(", ")
		}
		first = false
		sb.WriteString(l)
	}
	sb.WriteString(")")
	return rawSQL(sb.String()), nil
}

// Execute implements Primitive.
func (u *UncorrelatedSubquery) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	a, err := u.outerArgs(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	return u.Outer.Execute(ctx, vc, a)
}

// Stream implements Primitive.
func (u *UncorrelatedSubquery) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	a, err := u.outerArgs(ctx, vc, args)
	if err != nil {
		return err
	}
	return u.Outer.Stream(ctx, vc, a, fn)
}

// Inputs implements Primitive: the subqueries, then the outer query.
func (u *UncorrelatedSubquery) Inputs() []Primitive {
	var in []Primitive
	for _, s := range u.Subs {
		in = append(in, s.Input)
	}
	return append(in, u.Outer)
}

func (u *UncorrelatedSubquery) description() Description {
	var kinds []string
	for _, s := range u.Subs {
		k := [...]string{"IN", "EXISTS", "scalar"}[s.Kind]
		if s.Not {
			k = "NOT " + k
		}
		kinds = append(kinds, k)
	}
	return Description{OperatorType: "UncorrelatedSubquery", Other: map[string]any{"Subqueries": kinds}}
}

// extractSubqueries replaces the subqueries of sel's WHERE with holes and
// plans each; nil when WHERE has none. Correlated subqueries (naming a
// table of the outer query) and subqueries elsewhere are refused.
func (b *builder) extractSubqueries(sel *ast.SelectStmt) ([]SubqueryInput, error) {
	if findNode(sel.Fields, isSubquery) || (sel.Having != nil && findNode(sel.Having, isSubquery)) ||
		(sel.OrderBy != nil && findNode(sel.OrderBy, isSubquery)) || (sel.GroupBy != nil && findNode(sel.GroupBy, isSubquery)) {
		return nil, unsupported("subqueries outside WHERE across shards")
	}
	if sel.From != nil && sel.From.TableRefs != nil && findNode(sel.From.TableRefs, isSelectOrSubquery) {
		return nil, unsupported("derived tables and subqueries in FROM across shards")
	}
	if sel.Where == nil {
		return nil, nil
	}
	outer := map[string]bool{}
	for _, tn := range collectTables(sel.From) {
		outer[strings.ToLower(tn.Name.O)] = true
	}
	if sel.From != nil {
		sel.From.Accept(&aliasCollector{names: outer})
	}
	v := &subqueryExtractor{owned: map[*ast.SubqueryExpr]bool{}, next: b.nparams}
	w, _ := sel.Where.Accept(v)
	if v.err != nil {
		return nil, v.err
	}
	var subs []SubqueryInput
	for _, f := range v.found {
		if correlated(f.query, outer) {
			return nil, unsupported("correlated subqueries across shards")
		}
		p, err := b.buildSelect(f.query)
		if err != nil {
			return nil, err
		}
		f.in.Input = p
		subs = append(subs, f.in)
	}
	sel.Where = w.(ast.ExprNode)
	return subs, nil
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
	in    SubqueryInput
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

func (v *subqueryExtractor) hole(q ast.ResultSetNode, in SubqueryInput) ast.Node {
	stmt, ok := q.(*ast.SelectStmt)
	if !ok {
		if v.err == nil {
			v.err = unsupported("UNION inside a subquery across shards")
		}
		return newHoleExpr(holeParam(v.next))
	}
	v.found = append(v.found, foundSub{query: stmt, in: in})
	h := newHoleExpr(holeParam(v.next))
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
		return v.hole(s.Query, SubqueryInput{Kind: subIn, Not: x.Not, Left: left}), true
	case *ast.ExistsSubqueryExpr:
		s, ok := x.Sel.(*ast.SubqueryExpr)
		if !ok {
			return n, true
		}
		return v.hole(s.Query, SubqueryInput{Kind: subExists, Not: x.Not}), true
	case *ast.SubqueryExpr:
		if v.owned[x] {
			return n, true
		}
		return v.hole(x.Query, SubqueryInput{Kind: subScalar}), true
	}
	return n, true
}
