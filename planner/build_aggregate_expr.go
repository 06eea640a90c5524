package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
)

// Expressions of aggregates across shards (SUM(a)/COUNT(*),
// COALESCE(SUM(x), 0), AVG(x) * 2), as Vitess evaluates them: each
// aggregate inside is pushed to the shards as a hidden column and merged
// like any other, then the gateway evaluates the expression over the
// merged values. The expression itself is still sent in its place, so the
// shards' field for it is MySQL's type for the result (DECIMAL precision
// and scale included); the gateway replaces only the value.

// planComputed plans select column col, an expression of aggregates, as
// a column computed at the gateway.
func (g *groupPlan) planComputed(col int, clause string) error {
	e := g.fields[col].Expr
	fn, err := compileIn(e, g.leaf, clause)
	if err != nil {
		return err
	}
	text, _ := restore(e)
	g.computed = append(g.computed, engine.ComputedColumn{Col: col, Expr: fn, Text: text})
	g.computedAt[col] = true
	return nil
}

// computedColumn finds an ORDER BY expression of aggregates among the
// computed select columns, or adds it as a hidden one.
func (g *groupPlan) computedColumn(e ast.ExprNode) (int, error) {
	for i := 0; i < g.visible; i++ {
		if g.computedAt[i] && sameExpr(g.fields[i].Expr, e) {
			return i, nil
		}
	}
	col := g.add(e)
	return col, g.planComputed(col, "ORDER BY")
}

// leaf maps an operand of a computed expression to its column: an
// aggregate to its (maybe hidden) merged column, anything else to a
// column that depends on the grouping keys.
func (g *groupPlan) leaf(e ast.ExprNode) (int, error) {
	if a, ok := e.(*ast.AggregateFuncExpr); ok {
		return g.aggregateColumn(a)
	}
	col, _, err := g.resolve(e, "field list")
	return col, err
}

// avgAsDivision is AVG(x) written as SUM(x) / COUNT(x), which is how MySQL
// computes the AVG an expression reads (Item_sum_avg::val_decimal divides
// with div_precision_increment); ok is false for anything else.
func avgAsDivision(a *ast.AggregateFuncExpr) (ast.ExprNode, bool) {
	if !strings.EqualFold(a.F, ast.AggFuncAvg) || a.Distinct || len(a.Args) != 1 {
		return nil, false
	}
	return &ast.BinaryOperationExpr{
		Op: opcode.Div,
		L:  &ast.AggregateFuncExpr{F: ast.AggFuncSum, Args: a.Args},
		R:  &ast.AggregateFuncExpr{F: ast.AggFuncCount, Args: a.Args},
	}, true
}
