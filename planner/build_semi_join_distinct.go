package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// SELECT DISTINCT with correlated subqueries in WHERE: the shards cannot
// de-duplicate rows the SemiJoin has not yet filtered, so the outer query
// sends every row with each column's weight_string, and a one-input
// distinct Concatenate over the SemiJoin de-duplicates them in the
// columns' collations (as UNION DISTINCT does), orders them by the
// select-list columns ORDER BY names, and drops the weights; LIMIT
// applies after.

// semiJoinDistinct reports whether sel is a DISTINCT the gateway can
// de-duplicate after a semi-join: no grouping, aggregates, windows,
// select-list subqueries or *.
func semiJoinDistinct(sel *ast.SelectStmt, values []scalarField) bool {
	if !sel.Distinct || len(values) > 0 || sel.GroupBy != nil || sel.Having != nil || sel.WindowSpecs != nil ||
		findOutsideSubqueries(sel.Fields, isAggregate) || findOutsideSubqueries(sel.Fields, isWindowFunc) ||
		(sel.OrderBy != nil && findOutsideSubqueries(sel.OrderBy, isAggregate)) {
		return false
	}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			return false
		}
	}
	return true
}

// distinctAfter takes sel's DISTINCT and ORDER BY into the Concatenate
// that de-duplicates the semi-join's rows; it appends the weight_string
// columns to sel's select list, so it must run before the join variables
// are appended. The Concatenate's Sources are left for the caller.
func distinctAfter(sel *ast.SelectStmt) (*engine.Concatenate, error) {
	fields := sel.Fields.Fields
	visible := len(fields)
	c := &engine.Concatenate{Visible: visible, Hidden: visible, DistinctInputs: 1, Weights: make([]int, visible)}
	for i, f := range fields {
		sel.Fields.Fields = append(sel.Fields.Fields, &ast.SelectField{Expr: &ast.FuncCallExpr{
			FnName: ast.NewCIStr("weight_string"), Args: []ast.ExprNode{f.Expr}}})
		c.Weights[i] = visible + i
	}
	if sel.OrderBy != nil {
		for _, it := range sel.OrderBy.Items {
			col := -1
			switch x := it.Expr.(type) {
			case *ast.PositionExpr:
				if x.P != nil {
					return nil, unsupported("ORDER BY a parameter across shards")
				}
				if x.N >= 1 && x.N <= visible {
					col = x.N - 1
				}
			default:
				col = matchField(fields, it.Expr, -1)
			}
			if col < 0 {
				// MySQL too orders a DISTINCT only by what it selects
				// (ER_FIELD_IN_ORDER_IS_NOT_IN_SELECT_LIST in MySQL 8).
				return nil, unsupported("ORDER BY a term outside the select list of a DISTINCT with correlated subqueries across shards")
			}
			c.Order = append(c.Order, engine.OrderKey{Col: col, Weight: visible + col, Desc: it.Desc})
		}
	}
	sel.Distinct = false
	if sel.SelectStmtOpts != nil {
		sel.SelectStmtOpts.Distinct = false
	}
	sel.OrderBy = nil
	return c, nil
}
