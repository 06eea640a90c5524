package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// planGroupConcat plans GROUP_CONCAT(args [ORDER BY ...] SEPARATOR s)
// across shards (see engine.GroupConcat): the element (the arguments
// concatenated, as GROUP_CONCAT concatenates them) is a hidden column;
// the shards group by it byte for byte (BINARY, so spellings a collation
// calls equal stay apart) and count its rows, or for DISTINCT group by
// the arguments in their collation; they also group by the ORDER BY
// operands, which the gateway sorts the elements by.
func (g *groupPlan) planGroupConcat(a *ast.AggregateFuncExpr, c *engine.GroupAggregateColumn) error {
	if len(a.Args) < 2 {
		return unsupported("GROUP_CONCAT without arguments")
	}
	args := a.Args[:len(a.Args)-1]
	sep, ok := a.Args[len(a.Args)-1].(*valueExpr)
	if !ok {
		return unsupported("GROUP_CONCAT with this SEPARATOR across shards")
	}
	sepText, ok := sep.val.(string)
	if !ok {
		return unsupported("GROUP_CONCAT with this SEPARATOR across shards")
	}
	var elem ast.ExprNode = &ast.FuncCallExpr{FnName: ast.NewCIStr("concat"), Args: args}
	if len(args) == 1 {
		elem = args[0]
	}
	gc := &engine.GroupConcat{Elem: g.add(elem), Times: -1, Separator: sepText}
	if a.Distinct {
		gc.Keys = g.distinctColumns(args)
	} else {
		g.rawGroup = append(g.rawGroup, &ast.FuncCastExpr{Expr: elem, FunctionType: ast.CastBinaryOperator})
		gc.Times = g.add(&ast.AggregateFuncExpr{F: ast.AggFuncCount, Args: []ast.ExprNode{newValueExpr(int64(1), "", "")}})
	}
	if a.Order != nil {
		for _, item := range a.Order.Items {
			expr := item.Expr
			if p, ok := expr.(*ast.PositionExpr); ok && p.P == nil && p.N >= 1 && p.N <= len(args) {
				// ORDER BY n inside GROUP_CONCAT is its n-th argument.
				expr = args[p.N-1]
			}
			switch expr.(type) {
			case *ast.PositionExpr, ast.ValueExpr:
				return unsupported("GROUP_CONCAT ordered by a position or a constant across shards")
			}
			if findNode(expr, isAggregate) {
				return unsupported("GROUP_CONCAT ordered by an aggregate")
			}
			k := g.distinctColumns([]ast.ExprNode{expr})[0]
			gc.Order = append(gc.Order, engine.OrderKey{Col: k.Col, Weight: k.Weight, Desc: item.Desc})
		}
	}
	c.Op, c.Concat = engine.AggrGroupConcat, gc
	return nil
}
