package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
)

// Expressions over the rows of a gateway join (select columns, ORDER BY
// operands, WHERE and ON terms that read several tables' columns), as
// Vitess evaluates them: every part of an expression that reads one
// group's columns only (a column, `lower(u.name)`, `u.name = 'x'`) is
// computed by that group's shard query as a hidden column, so MySQL
// computes it in MySQL's types and collations; the gateway evaluates only
// what combines the groups (`u.age + o.amount`, `concat(u.name, t.name)`)
// with the engine's evaluator, over the joined rows.
//
// A group joined by a LEFT JOIN may be NULL-extended where an expression
// is evaluated (after its step): a column of it is then NULL, as in
// MySQL; any other part of it is computed twice, over its row by its own
// query and with its columns NULL by the first group's query, and a
// marker column (1 from the group's query, NULL when extended) says which
// one the row takes.

// rowColumn stands, in an expression compiled over joined rows, for a
// part computed by a shard query: expr reads it from the joined row once
// the columns' places are known (set by resolveRowColumns).
type rowColumn struct {
	valueExpr
	expr engine.Expr
	// leaf is where the part is computed.
	leaf joinLeaf
	text string
}

// Restore implements ast.Node: the part as written.
func (r *rowColumn) Restore(ctx *format.RestoreCtx) error {
	ctx.WritePlain(r.text)
	return nil
}

// Accept implements ast.Node: a leaf.
func (r *rowColumn) Accept(v ast.Visitor) (ast.Node, bool) {
	n, _ := v.Enter(r)
	return v.Leave(n)
}

// joinLeaf is where a part of an expression over joined rows is read:
// column val of group val.group, or, for a NULL-extended group's part,
// val when marker is not NULL and extended (over the first group's
// query) when it is.
type joinLeaf struct {
	val      chainCol
	nullable bool
	marker   chainCol
	extended chainCol
}

// cols lists the columns a leaf reads.
func (l joinLeaf) cols() []chainCol {
	if l.nullable {
		return []chainCol{l.val, l.marker, l.extended}
	}
	return []chainCol{l.val}
}

// exprAt is the leaf's value, its columns at the places idx gives.
func (l joinLeaf) exprAt(idx func(chainCol) int) engine.Expr {
	v := engine.ColumnExpr(idx(l.val))
	if !l.nullable {
		return v
	}
	return engine.IfExpr(engine.IsNullExpr(engine.ColumnExpr(idx(l.marker)), false), engine.ColumnExpr(idx(l.extended)), v)
}

// leafRewriter replaces the parts of an expression that one group can
// compute by rowColumns, adding their columns to the groups' queries.
type leafRewriter struct {
	b *builder
	c *chain
	// extendedAfter says whether group g may be NULL-extended where the
	// expression is evaluated.
	extendedAfter func(g int) bool
	leaves        []*rowColumn
	// combined are the nodes that read several groups: evaluated at the
	// gateway over their rewritten operands.
	combined map[ast.Node]bool
	err      error
}

// isLiteral says whether the evaluator takes e as it is: a literal or a ?.
func isLiteral(e ast.ExprNode) bool {
	switch e.(type) {
	case *valueExpr, *paramMarker:
		return true
	}
	return false
}

func (r *leafRewriter) Enter(n ast.Node) (ast.Node, bool) {
	if r.err != nil {
		return n, true
	}
	e, ok := n.(ast.ExprNode)
	if !ok {
		return n, false // a CASE's WHEN clause: its operands are below
	}
	if isSubquery(n) {
		r.err = unsupported("subqueries in expressions of several tables of a join across shards")
		return n, true
	}
	if isLiteral(e) {
		return n, true
	}
	if _, ok := e.(*rowColumn); ok {
		return n, true
	}
	if _, ok := e.(*ast.ParenthesesExpr); ok {
		return n, false
	}
	gs, err := r.c.groupsOf(e)
	if err != nil {
		r.err = err
		return n, true
	}
	if len(gs) > 1 {
		r.combined[n] = true
		return n, false // combined at the gateway: look inside
	}
	// One group's part, or a constant the evaluator may not know (NOW(),
	// 'a' = 'A'), which the first group's query computes.
	return n, true
}

func (r *leafRewriter) Leave(n ast.Node) (ast.Node, bool) {
	e, ok := n.(ast.ExprNode)
	if !ok || r.err != nil || isLiteral(e) {
		return n, true
	}
	if _, ok := e.(*rowColumn); ok {
		return n, true
	}
	if _, ok := e.(*ast.ParenthesesExpr); ok || r.combined[n] {
		return n, true
	}
	gs, err := r.c.groupsOf(e)
	if err != nil || len(gs) > 1 {
		return n, true
	}
	g := r.c.order[0]
	if len(gs) == 1 {
		g = gs[0]
	}
	text, err := restore(e)
	if err != nil {
		r.err = err
		return n, true
	}
	leaf := joinLeaf{val: r.c.add(g, &ast.SelectField{Expr: e})}
	if _, isCol := e.(*ast.ColumnNameExpr); !isCol && r.extendedAfter(g) {
		ext, err := r.b.withGroupNull(r.c, g, e)
		if err != nil {
			r.err = err
			return n, true
		}
		leaf.nullable = true
		leaf.marker = r.c.add(g, &ast.SelectField{Expr: newValueExpr(int64(1), "", "")})
		leaf.extended = r.c.add(r.c.order[0], &ast.SelectField{Expr: ext})
	}
	rc := &rowColumn{valueExpr: valueExpr{projOff: -1}, leaf: leaf, text: text}
	r.leaves = append(r.leaves, rc)
	return rc, true
}

// withGroupNull is a copy of e with group g's columns replaced by NULL:
// its value on a row where g is NULL-extended.
func (b *builder) withGroupNull(c *chain, g int, e ast.ExprNode) (ast.ExprNode, error) {
	cp, err := copyOverRows(b, e)
	if err != nil {
		return nil, err
	}
	v := &nullColumns{c: c, g: g}
	out, _ := cp.Accept(v)
	return out.(ast.ExprNode), nil
}

type nullColumns struct {
	c *chain
	g int
}

func (v *nullColumns) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (v *nullColumns) Leave(n ast.Node) (ast.Node, bool) {
	if col, ok := n.(*ast.ColumnNameExpr); ok {
		if t := v.c.tableOf(col.Name.Table.O); t >= 0 && v.c.tables[t].group == v.g {
			return newValueExpr(nil, "", ""), true
		}
	}
	return n, true
}

// copyOverRows copies e to be rewritten. The copy is made from e's text,
// which an uncorrelated subquery already replaced by its value's hole
// cannot be read back from: refused.
func copyOverRows(b *builder, e ast.ExprNode) (ast.ExprNode, error) {
	cp, err := cloneExpr(b, e)
	if err != nil {
		return nil, unsupported("subqueries in expressions of several tables of a join across shards")
	}
	return cp, nil
}

// rowExpr is an expression over joined rows being planned: its parts
// computed by the groups' queries are in place (leaves); compile turns it
// into an engine.Expr once their columns' places are known.
type rowExpr struct {
	e      ast.ExprNode
	text   string
	leaves []*rowColumn
}

// rewriteOverRows prepares e (not modified: a copy is rewritten) for
// evaluation over joined rows where groups extendedAfter names may be
// NULL-extended.
func (b *builder) rewriteOverRows(c *chain, e ast.ExprNode, extendedAfter func(int) bool) (*rowExpr, error) {
	text, err := restore(e)
	if err != nil {
		return nil, err
	}
	cp, err := copyOverRows(b, e)
	if err != nil {
		return nil, err
	}
	r := &leafRewriter{b: b, c: c, extendedAfter: extendedAfter, combined: map[ast.Node]bool{}}
	out, _ := cp.Accept(r)
	if r.err != nil {
		return nil, r.err
	}
	return &rowExpr{e: out.(ast.ExprNode), text: text, leaves: r.leaves}, nil
}

// cols lists the columns the expression's leaves read.
func (x *rowExpr) cols() []chainCol {
	var out []chainCol
	for _, l := range x.leaves {
		out = append(out, l.leaf.cols()...)
	}
	return out
}

// compile makes the engine.Expr, the leaves' columns at the places idx
// gives.
func (x *rowExpr) compile(idx func(chainCol) int) (engine.Expr, error) {
	for _, l := range x.leaves {
		l.expr = l.leaf.exprAt(idx)
	}
	return compileIn(x.e, func(n ast.ExprNode) (int, error) {
		s, _ := restore(n)
		return 0, unsupportedf("the expression %s over a join across shards", s)
	}, "an expression of several tables of a join")
}

// nullRejecting says whether WHERE term e is false or NULL whenever the
// columns of table q are all NULL, so a LEFT JOIN of q under it is an
// inner join (MySQL's outer join simplification): a comparison, LIKE, IN
// list or BETWEEN one of whose operands is q's column or arithmetic on
// one, or q's column IS NOT NULL.
func nullRejecting(e ast.ExprNode, c *chain, q int) bool {
	strict := func(x ast.ExprNode) bool { return strictOf(unparen(x), c, q) }
	switch x := unparen(e).(type) {
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE:
			return strict(x.L) || strict(x.R)
		case opcode.LogicAnd:
			return nullRejecting(x.L, c, q) || nullRejecting(x.R, c, q)
		}
	case *ast.PatternLikeOrIlikeExpr:
		return strict(x.Expr) || strict(x.Pattern)
	case *ast.PatternInExpr:
		return x.Sel == nil && strict(x.Expr)
	case *ast.BetweenExpr:
		return strict(x.Expr)
	case *ast.IsNullExpr:
		return x.Not && strict(x.Expr)
	}
	return false
}

// strictOf says whether e is NULL when table q's columns are: one of them,
// or arithmetic with one as an operand.
func strictOf(e ast.ExprNode, c *chain, q int) bool {
	switch x := e.(type) {
	case *ast.ColumnNameExpr:
		return c.tableOf(x.Name.Table.O) == q
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.IntDiv, opcode.Mod:
			return strictOf(unparen(x.L), c, q) || strictOf(unparen(x.R), c, q)
		}
	case *ast.UnaryOperationExpr:
		return x.Op == opcode.Minus && strictOf(unparen(x.V), c, q)
	}
	return false
}
