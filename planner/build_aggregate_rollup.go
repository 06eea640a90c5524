package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// GROUP BY ... WITH ROLLUP across shards: the shards group without
// ROLLUP, and the gateway's GroupAggregate adds MariaDB's super-aggregate
// rows (engine.Rollup). In those rows MariaDB makes the rolled-up GROUP BY
// expressions NULL everywhere they appear, also inside other expressions
// (b + 1 and COALESCE(a, 'all') are computed from the NULL). The gateway
// nulls the columns that are a GROUP BY expression; expressions of
// aggregates are computed by the gateway from the row, so they see the
// NULL too. A plain column or a function of a GROUP BY column that the
// shards would compute per group (a + 1 in the select list, LENGTH(a) in
// HAVING) would keep the group's value, so it is refused.

// rollup plans the super-aggregate rows of the grouping keys, whose
// expressions are keyExprs and GROUP BY directions desc.
func (g *groupPlan) rollup(keys []engine.GroupKey, keyExprs []ast.ExprNode, desc []bool) (*engine.Rollup, error) {
	names := map[string]bool{}
	for _, e := range keyExprs {
		findNode(e, func(n ast.Node) bool {
			if c, ok := n.(*ast.ColumnNameExpr); ok {
				names[strings.ToLower(c.Name.Name.O)] = true
			}
			return false
		})
	}
	readsKey := func(e ast.ExprNode) bool {
		return findNode(e, func(n ast.Node) bool {
			c, ok := n.(*ast.ColumnNameExpr)
			return ok && names[strings.ToLower(c.Name.Name.O)]
		})
	}
	isKey := func(e ast.ExprNode) bool {
		for _, k := range keyExprs {
			if sameExpr(e, k) {
				return true
			}
		}
		return false
	}
	// A select column computed from grouping columns (COALESCE(a, 'all'))
	// is computed by the gateway from the row, NULLs included, where it
	// can be.
	for j := 0; j < g.visible; j++ {
		if _, isAgg := g.aggAt[j]; isAgg || g.computedAt[j] || isKey(g.fields[j].Expr) || !readsKey(g.fields[j].Expr) {
			continue
		}
		if err := g.planComputed(j, "the select list"); err != nil {
			return nil, unsupported("expressions of GROUP BY columns with WITH ROLLUP across shards")
		}
	}
	owned := g.aggregateOwned()
	r := &engine.Rollup{Desc: desc, Nulls: make([][]int, len(keys))}
	nulled := map[int]bool{}
	for i, k := range keys {
		cols := []int{k.Col}
		if k.Weight != engine.NoWeight {
			cols = append(cols, k.Weight)
		}
		for j, f := range g.fields {
			if j == k.Col || g.computedAt[j] || owned[j] {
				continue
			}
			if _, isAgg := g.aggAt[j]; isAgg || !sameExpr(f.Expr, keyExprs[i]) {
				continue
			}
			cols = append(cols, j)
			if w, ok := g.weights[j]; ok {
				cols = append(cols, w)
			}
		}
		for _, c := range cols {
			nulled[c] = true
		}
		r.Nulls[i] = cols
	}
	for _, w := range g.weights {
		owned[w] = true
	}
	for j, f := range g.fields {
		if _, isAgg := g.aggAt[j]; isAgg || nulled[j] || owned[j] || g.computedAt[j] {
			continue
		}
		if readsKey(f.Expr) {
			return nil, unsupported("expressions of GROUP BY columns with WITH ROLLUP across shards")
		}
	}
	return r, nil
}

// aggregateOwned are the hidden columns the aggregates' merges read
// (AVG's partials, DISTINCT arguments, GROUP_CONCAT's elements, MIN/MAX
// weights): they are aggregated, never shown, so a rollup needs nothing
// of them.
func (g *groupPlan) aggregateOwned() map[int]bool {
	owned := map[int]bool{}
	put := func(cols ...int) {
		for _, c := range cols {
			if c >= 0 {
				owned[c] = true
			}
		}
	}
	for _, a := range g.aggs {
		put(a.Sum, a.Count, a.Distinct, a.DistinctWeight, a.Weight)
		put(a.Companions...)
		for _, k := range a.DistinctRest {
			put(k.Col, k.Weight)
		}
		if c := a.Concat; c != nil {
			put(c.Elem, c.Times)
			for _, k := range c.Keys {
				put(k.Col, k.Weight)
			}
			for _, k := range c.Order {
				put(k.Col, k.Weight)
			}
		}
	}
	for _, k := range g.distinctKeys {
		put(k.Col, k.Weight)
	}
	return owned
}
