package planner

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// String functions of a MIN or MAX across shards (LOWER(MAX(name)),
// CONCAT('last: ', MAX(name)), UPPER(MIN(sku))): the shards compute the
// expression beside the MIN/MAX in each group, and the gateway takes it
// from the row whose MIN/MAX wins the merge (engine's
// GroupAggregateColumn.Companions). The value is then exactly MariaDB's:
// computed from the winning value, by a server, in the column's own
// collation (which maps case — Turkish i to İ — where the gateway could
// not, knowing only the result's character set). Only functions that are
// NULL for a NULL argument qualify, so a group with no value takes its
// NULL from any shard's row.

// isCompanionFunc says whether function name is one of those.
func isCompanionFunc(name string) bool {
	switch name {
	case "lower", "lcase", "upper", "ucase", "concat", "substring", "substr", "left", "right",
		"trim", "ltrim", "rtrim", "replace", "reverse", "lpad", "rpad", "repeat",
		"length", "octet_length", "char_length", "character_length", "hex", "md5", "sha1", "sha2":
		return true
	}
	return false
}

// companionOf returns the MIN or MAX that select expression e is a
// function of, when e is one the shards can compute beside it: the
// aggregate is its only column, and every function is a companion
// function; nil otherwise.
func companionOf(e ast.ExprNode) *ast.AggregateFuncExpr {
	if _, ok := unparen(e).(*ast.AggregateFuncExpr); ok {
		return nil
	}
	var agg *ast.AggregateFuncExpr
	ok := true
	var walk func(n ast.ExprNode)
	walk = func(n ast.ExprNode) {
		switch x := n.(type) {
		case *ast.ParenthesesExpr:
			walk(x.Expr)
		case *ast.AggregateFuncExpr:
			name := strings.ToLower(x.F)
			if agg != nil || (name != ast.AggFuncMin && name != ast.AggFuncMax) {
				ok = false
				return
			}
			agg = x
		case *ast.FuncCallExpr:
			if !isCompanionFunc(x.FnName.L) {
				ok = false
				return
			}
			for _, a := range x.Args {
				walk(a)
			}
		case *valueExpr, *paramMarker:
		default:
			ok = false
		}
	}
	walk(e)
	if !ok {
		return nil
	}
	return agg
}

// planCompanion plans select column col as a companion of its MIN or MAX
// (companionOf); ok is false when it is not one.
func (g *groupPlan) planCompanion(col int) (bool, error) {
	a := companionOf(g.fields[col].Expr)
	if a == nil {
		return false, nil
	}
	aggCol, err := g.aggregateColumn(a)
	if err != nil {
		return false, err
	}
	i := g.aggAt[aggCol]
	g.aggs[i].Companions = append(g.aggs[i].Companions, col)
	g.companions = append(g.companions, col)
	return true, nil
}

// companionWeights makes the weight_string columns of companion columns
// (pushed for DISTINCT or ORDER BY) companions too: the winner's weight
// goes with the winner's value.
func (g *groupPlan) companionWeights() {
	for i := range g.aggs {
		for _, col := range g.aggs[i].Companions {
			if w, ok := g.weights[col]; ok && slices.Contains(g.companions, col) {
				g.aggs[i].Companions = append(g.aggs[i].Companions, w)
			}
		}
	}
}

// companionColumn finds an ORDER BY expression among the companion
// select columns, or adds it as a hidden one when it is one; ok is false
// when it is not.
func (g *groupPlan) companionColumn(e ast.ExprNode) (col int, ok bool, err error) {
	for _, col := range g.companions {
		if sameExpr(g.fields[col].Expr, e) {
			return col, true, nil
		}
	}
	if companionOf(e) == nil {
		return 0, false, nil
	}
	col = g.add(e)
	_, err = g.planCompanion(col)
	return col, true, err
}
