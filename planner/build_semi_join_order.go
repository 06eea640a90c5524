package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// ORDER BY a select-list subquery column: the column is known only after
// the SemiJoin filled it, so the gateway sorts the SemiJoin's rows
// (engine.MemorySort) and applies LIMIT after. The other ORDER BY terms
// ride in the outer query as hidden columns with their weight_strings
// (orderKeys), placed before the join variables so the SemiJoin passes
// them on; the sort drops them. A subquery column of a character type
// has no weight_string, so ordering by it is refused when its rows come
// (1235), as any gateway sort without one.

// semiJoinOrder plans the sort of a semi-join whose ORDER BY names a
// subquery column of the select list; keys is nil when it names none.
// It takes sel's ORDER BY (and appends the hidden columns to sel's select
// list), so it must run before the join variables are appended.
func semiJoinOrder(sel *ast.SelectStmt, values []scalarField) (keys []engine.OrderKey, trim int, err error) {
	byValue := false
	for _, v := range values {
		if refersTo(sel.OrderBy, v.col, v.name) {
			byValue = true
		}
	}
	if !byValue {
		return nil, 0, nil
	}
	items := sel.OrderBy.Items
	valueOf := make([]int, len(items)) // the value column an item names, or -1
	var rest []*ast.ByItem
	for i, it := range items {
		valueOf[i] = -1
		if p, ok := it.Expr.(*ast.PositionExpr); ok && p.P != nil {
			return nil, 0, unsupported("ORDER BY a parameter across shards")
		}
		for _, v := range values {
			one := &ast.OrderByClause{Items: []*ast.ByItem{it}}
			if refersTo(one, v.col, v.name) {
				valueOf[i] = v.col
				break
			}
		}
		if valueOf[i] < 0 {
			rest = append(rest, it)
		}
	}
	var restKeys []engine.OrderKey
	if len(rest) > 0 {
		sel.OrderBy.Items = rest
		if restKeys, trim, err = orderKeys(sel); err != nil {
			return nil, 0, err
		}
	}
	sel.OrderBy = nil
	for i, it := range items {
		if valueOf[i] >= 0 {
			keys = append(keys, engine.OrderKey{Col: valueOf[i], Weight: engine.NoWeight, Desc: it.Desc})
			continue
		}
		keys = append(keys, restKeys[0])
		restKeys = restKeys[1:]
	}
	return keys, trim, nil
}
