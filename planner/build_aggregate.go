package planner

import (
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/engine"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/sqlerror"
)

// groupPlan collects the shard query's select list while a grouped or
// aggregate SELECT is planned: the client's columns first, then hidden
// ones (partials, weight_strings, grouping keys, HAVING and ORDER BY
// operands).
type groupPlan struct {
	sel     *ast.SelectStmt
	fields  []*ast.SelectField
	visible int
	aggs    []engine.GroupAggregateColumn
	aggAt   map[int]int // column -> index in aggs
	// distinct are the arguments of the DISTINCT aggregates, each with its
	// hidden value and weight_string columns: the shards group by them too.
	distinct     []ast.ExprNode
	distinctKeys []engine.GroupKey
	// rawGroup are further shard GROUP BY items no gateway key reads
	// (GROUP_CONCAT's elements, byte for byte).
	rawGroup []ast.ExprNode
	weights  map[int]int // column -> its weight_string column
	// computed are the columns evaluated at the gateway from the merged
	// aggregates (expressions of aggregates), by column.
	computed   []engine.ComputedColumn
	computedAt map[int]bool
	// companions are the select columns taken from the winning row of
	// their MIN or MAX (build_aggregate_companion.go).
	companions []int
}

// weight returns the hidden weight_string column of column col (whose
// expression is expr), pushing it once.
func (g *groupPlan) weight(col int, expr ast.ExprNode) int {
	if w, ok := g.weights[col]; ok {
		return w
	}
	w := g.add(weightOf(expr))
	g.weights[col] = w
	return w
}

func (g *groupPlan) add(e ast.ExprNode) int {
	g.fields = append(g.fields, &ast.SelectField{Expr: e})
	return len(g.fields) - 1
}

func weightOf(e ast.ExprNode) ast.ExprNode {
	return &ast.FuncCallExpr{FnName: ast.NewCIStr("weight_string"), Args: []ast.ExprNode{e}}
}

func sameExpr(a, b ast.ExprNode) bool {
	sa, err1 := restore(unparen(a))
	sb, err2 := restore(unparen(b))
	return err1 == nil && err2 == nil && strings.EqualFold(sa, sb)
}

// groupedSelect plans a multi-shard SELECT with GROUP BY, HAVING, DISTINCT,
// or aggregates the plain scalar merge does not cover: the shards group
// (by the query's keys, plus the argument of a COUNT(DISTINCT)) and the
// gateway merges groups, evaluates HAVING, orders and limits.
func (b *builder) groupedSelect(sel *ast.SelectStmt, vr vindexRoute, src *source) (engine.Primitive, error) {
	g, ga, lim, err := planGrouping(sel)
	if err != nil {
		return nil, err
	}
	if len(g.distinct)+len(g.rawGroup) > 0 {
		if sel.GroupBy == nil {
			sel.GroupBy = &ast.GroupByClause{}
		}
		for _, d := range append(slices.Clone(g.distinct), g.rawGroup...) {
			sel.GroupBy.Items = append(sel.GroupBy.Items, &ast.ByItem{Expr: d, NullOrder: true})
		}
	}
	sel.Having, sel.OrderBy, sel.Limit = nil, nil, nil
	sel.Fields.Fields = g.fields
	vr.cutInList()
	q, err := render(sel)
	if err != nil {
		return nil, err
	}
	ga.Input = &engine.Route{Routing: vr.routing(src), Query: q}
	var top engine.Primitive = ga
	if lim != nil {
		top = &engine.Limit{Input: top, Spec: *lim}
	}
	return top, nil
}

// planGrouping plans the gateway's part of a grouped or aggregate SELECT:
// the columns its input must deliver (g.fields: the select list, then
// hidden ones) and the GroupAggregate over them (without its Input), and
// the LIMIT to apply after it.
func planGrouping(sel *ast.SelectStmt) (*groupPlan, *engine.GroupAggregate, *engine.LimitSpec, error) {
	rollup := sel.GroupBy != nil && sel.GroupBy.Rollup
	if rollup {
		if sel.OrderBy != nil {
			return nil, nil, nil, sqlerror.New(sqlerror.User, mysql.ER_WRONG_USAGE, "Incorrect usage of CUBE/ROLLUP and ORDER BY")
		}
		if sel.Distinct || (sel.SelectStmtOpts != nil && sel.SelectStmtOpts.Distinct) {
			// MariaDB 10.11 drops some super-aggregate rows under DISTINCT
			// (select distinct status, count(*) > 100 ... group by status,
			// user_id % 3 with rollup keeps none of them): no rule to follow.
			return nil, nil, nil, unsupported("DISTINCT with WITH ROLLUP across shards")
		}
		// The shards group plainly; the gateway adds the super-aggregate rows.
		sel.GroupBy.Rollup = false
	}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			return nil, nil, nil, unsupported("* with GROUP BY, DISTINCT or aggregate functions across shards")
		}
	}
	if err := keepFieldNames(sel); err != nil {
		return nil, nil, nil, err
	}
	g := &groupPlan{sel: sel, fields: append([]*ast.SelectField(nil), sel.Fields.Fields...), aggAt: map[int]int{}, weights: map[int]int{}, computedAt: map[int]bool{}}
	g.visible = len(g.fields)
	hasAggr := false
	var exprCols []int
	for i, f := range sel.Fields.Fields {
		if !findNode(f.Expr, isAggregate) {
			continue
		}
		hasAggr = true
		a, ok := unparen(f.Expr).(*ast.AggregateFuncExpr)
		if !ok {
			exprCols = append(exprCols, i)
			continue
		}
		if err := g.planAggregate(a, i); err != nil {
			return nil, nil, nil, err
		}
	}
	for _, i := range exprCols {
		if ok, err := g.planCompanion(i); err != nil || ok {
			if err != nil {
				return nil, nil, nil, err
			}
			continue
		}
		if err := g.planComputed(i, "the select list"); err != nil {
			return nil, nil, nil, err
		}
	}
	scalar := sel.GroupBy == nil
	distinctGroups := false
	if sel.Distinct {
		switch {
		case sel.GroupBy != nil:
			// DISTINCT over the merged groups (GroupAggregate.Distinct).
			sel.Distinct = false
			distinctGroups = true
		case hasAggr || (sel.Having != nil && findNode(sel.Having, isAggregate)):
			// one row: nothing to remove
		default:
			// DISTINCT a, b is GROUP BY a, b.
			sel.Distinct = false
			sel.GroupBy = &ast.GroupByClause{}
			for i := 0; i < g.visible; i++ {
				sel.GroupBy.Items = append(sel.GroupBy.Items, &ast.ByItem{Expr: &ast.PositionExpr{N: i + 1}, NullOrder: true})
			}
			scalar = false
		}
	}
	var keys []engine.GroupKey
	var keyExprs []ast.ExprNode
	var keyDesc []bool
	if sel.GroupBy != nil {
		for _, item := range sel.GroupBy.Items {
			if _, ok := item.Expr.(*paramMarker); ok {
				// A shard would read the bound number as a column position.
				return nil, nil, nil, unsupported("GROUP BY a parameter across shards")
			}
			col, expr, err := g.resolve(item.Expr, "group statement")
			if err != nil {
				return nil, nil, nil, err
			}
			if _, isAgg := g.aggAt[col]; isAgg {
				return nil, nil, nil, sqlerror.New(sqlerror.User, mysql.ER_WRONG_GROUP_FIELD, "Can't group on '%s'", fieldName(g.fields[col]))
			}
			keys = append(keys, engine.GroupKey{Col: col, Weight: g.weight(col, expr)})
			keyExprs, keyDesc = append(keyExprs, expr), append(keyDesc, item.Desc)
			if rollup {
				// The gateway sorts; GROUP BY ... DESC is MariaDB's alone.
				item.Desc = false
			}
		}
	}
	ga := &engine.GroupAggregate{Keys: keys, Scalar: scalar}
	if distinctGroups {
		for i := 0; i < g.visible; i++ {
			k := engine.GroupKey{Col: i, Weight: engine.NoWeight}
			if a, isAgg := g.aggAt[i]; isAgg {
				k.Weight = g.aggs[a].Weight
			} else if !g.computedAt[i] {
				k.Weight = g.weight(i, g.fields[i].Expr)
			}
			ga.Distinct = append(ga.Distinct, k)
		}
	}
	if sel.Having != nil {
		text, _ := restore(sel.Having.Expr)
		fn, err := compileWeighed(sel.Having.Expr, func(e ast.ExprNode) (int, error) {
			if a, ok := e.(*ast.AggregateFuncExpr); ok {
				return g.aggregateColumn(a)
			}
			col, _, err := g.resolveHaving(e)
			return col, err
		}, g.leafWeight, func(e ast.ExprNode) ast.ExprNode {
			if _, expr, err := g.resolveHaving(e); err == nil && expr != nil {
				return expr
			}
			return e
		}, "HAVING")
		if err != nil {
			return nil, nil, nil, err
		}
		ga.Having, ga.HavingText = fn, text
	}
	if sel.OrderBy != nil {
		for _, item := range sel.OrderBy.Items {
			if v, ok := item.Expr.(*valueExpr); ok && v.val == nil {
				continue
			}
			if _, ok := item.Expr.(ast.ValueExpr); ok {
				return nil, nil, nil, unsupported("ORDER BY a constant across shards")
			}
			var col int
			var expr ast.ExprNode
			var err error
			companion := false
			if a, ok := unparen(item.Expr).(*ast.AggregateFuncExpr); ok {
				col, err = g.aggregateColumn(a)
			} else if col, companion, err = g.companionColumn(item.Expr); companion {
				expr = g.fields[col].Expr
			} else if err == nil && findNode(item.Expr, isAggregate) {
				col, err = g.computedColumn(item.Expr)
			} else {
				col, expr, err = g.resolve(item.Expr, "order clause")
			}
			if err != nil {
				return nil, nil, nil, err
			}
			key := engine.OrderKey{Col: col, Weight: engine.NoWeight, Desc: item.Desc}
			if i, isAgg := g.aggAt[col]; isAgg {
				key.Weight = g.aggs[i].Weight
			} else if g.computedAt[col] {
				// Computed at the gateway: a shard's weight_string would be
				// of its own partial value.
				key.Weight = engine.NoWeight
			} else {
				key.Weight = g.weight(col, expr)
			}
			ga.Order = append(ga.Order, key)
		}
	}
	var lim *engine.LimitSpec
	if sel.Limit != nil {
		l, err := limitOf(sel.Limit)
		if err != nil {
			return nil, nil, nil, err
		}
		lim = l
	}
	g.companionWeights()
	ga.Aggregates = g.aggs
	ga.Computed = g.computed
	ga.Visible = g.visible
	if rollup {
		r, err := g.rollup(keys, keyExprs, keyDesc)
		if err != nil {
			return nil, nil, nil, err
		}
		ga.Rollup, ga.Computed = r, g.computed
	}
	return g, ga, lim, nil
}

func fieldName(f *ast.SelectField) string {
	if f.AsName.O != "" {
		return f.AsName.O
	}
	s, _ := restore(f.Expr)
	return s
}

// leafWeight is the weight_string column of a HAVING operand compared
// as a string (engine.NoWeight for one computed at the gateway or an
// aggregate other than MIN and MAX): a MIN/MAX's own, which the merge
// keeps with the winning value, or one pushed beside the column.
func (g *groupPlan) leafWeight(e ast.ExprNode) (int, error) {
	var col int
	var expr ast.ExprNode
	var err error
	if a, ok := e.(*ast.AggregateFuncExpr); ok {
		col, err = g.aggregateColumn(a)
	} else {
		col, expr, err = g.resolveHaving(e)
	}
	if err != nil {
		return 0, err
	}
	if i, isAgg := g.aggAt[col]; isAgg {
		return g.aggs[i].Weight, nil
	}
	if g.computedAt[col] || expr == nil {
		return engine.NoWeight, nil
	}
	return g.weight(col, expr), nil
}

// resolveHaving is resolve for a HAVING operand, which may also be a
// hidden column HAVING pushed already (the operand of a comparison is
// read for its value and its weight).
func (g *groupPlan) resolveHaving(e ast.ExprNode) (int, ast.ExprNode, error) {
	if _, isPos := e.(*ast.PositionExpr); !isPos {
		for i := g.visible; i < len(g.fields); i++ {
			if _, isAgg := g.aggAt[i]; !isAgg && !g.computedAt[i] && sameExpr(g.fields[i].Expr, e) {
				return i, g.fields[i].Expr, nil
			}
		}
	}
	return g.resolve(e, "having clause")
}

// planAggregate records the aggregate a pushed at column col, adding the
// hidden columns its merge needs.
func (g *groupPlan) planAggregate(a *ast.AggregateFuncExpr, col int) error {
	name := strings.ToLower(a.F)
	c := engine.GroupAggregateColumn{Col: col, Weight: engine.NoWeight, Distinct: -1, DistinctWeight: engine.NoWeight, Sum: -1, Count: -1}
	switch {
	case a.Distinct && (name == ast.AggFuncCount || name == ast.AggFuncSum || name == ast.AggFuncAvg):
		if name != ast.AggFuncCount && len(a.Args) != 1 {
			return unsupportedf("%s(DISTINCT ...) of several expressions across shards", strings.ToUpper(a.F))
		}
		keys := g.distinctColumns(a.Args)
		c.Distinct, c.DistinctWeight, c.DistinctRest = keys[0].Col, keys[0].Weight, keys[1:]
		c.Op = map[string]engine.AggregateOp{ast.AggFuncCount: engine.AggrCountDistinct, ast.AggFuncSum: engine.AggrSumDistinct, ast.AggFuncAvg: engine.AggrAvgDistinct}[name]
	case name == ast.AggFuncGroupConcat:
		if err := g.planGroupConcat(a, &c); err != nil {
			return err
		}
	case a.Distinct && name != ast.AggFuncMin && name != ast.AggFuncMax:
		return unsupportedf("%s(DISTINCT ...) across shards", strings.ToUpper(a.F))
	case name == ast.AggFuncCount:
		c.Op = engine.AggrCount
	case name == ast.AggFuncSum:
		c.Op = engine.AggrSum
	case name == ast.AggFuncMin || name == ast.AggFuncMax:
		c.Op = engine.AggrMin
		if name == ast.AggFuncMax {
			c.Op = engine.AggrMax
		}
		c.Weight = g.add(weightOf(a))
	case name == ast.AggFuncAvg:
		if len(a.Args) != 1 {
			return unsupported("AVG of several expressions across shards")
		}
		c.Op = engine.AggrAvg
		c.Sum = g.add(&ast.AggregateFuncExpr{F: ast.AggFuncSum, Args: a.Args})
		c.Count = g.add(&ast.AggregateFuncExpr{F: ast.AggFuncCount, Args: a.Args})
	default:
		return unsupportedf("%s across shards", strings.ToUpper(a.F))
	}
	g.aggAt[col] = len(g.aggs)
	g.aggs = append(g.aggs, c)
	return nil
}

// distinctColumns returns the hidden value and weight_string columns of
// the arguments of a DISTINCT aggregate, pushing those not pushed yet.
// The shards group by every such argument, so each shard row holds one
// combination of them: COUNT, SUM and AVG of distinct values are then
// counted, summed and averaged over the set of values at the gateway.
func (g *groupPlan) distinctColumns(args []ast.ExprNode) []engine.GroupKey {
	keys := make([]engine.GroupKey, len(args))
	for i, arg := range args {
		found := false
		for j, d := range g.distinct {
			if sameExpr(d, arg) {
				keys[i], found = g.distinctKeys[j], true
				break
			}
		}
		if !found {
			k := engine.GroupKey{Col: g.add(arg), Weight: g.add(weightOf(arg))}
			g.distinct = append(g.distinct, arg)
			g.distinctKeys = append(g.distinctKeys, k)
			keys[i] = k
		}
	}
	return keys
}

// aggregateColumn finds a's column among the visible aggregates, or pushes
// it as a hidden one.
func (g *groupPlan) aggregateColumn(a *ast.AggregateFuncExpr) (int, error) {
	for col := range g.aggAt {
		if sameExpr(g.fields[col].Expr, a) {
			return col, nil
		}
	}
	col := g.add(a)
	return col, g.planAggregate(a, col)
}

// resolve maps a GROUP BY, HAVING or ORDER BY operand to a column of the
// shard row: a select position, an alias, the same expression as a select
// column, or else a new hidden column (whose value depends on the grouping
// keys, so any row of the group has it). expr is what to take a
// weight_string of.
func (g *groupPlan) resolve(e ast.ExprNode, clause string) (int, ast.ExprNode, error) {
	if p, ok := e.(*ast.PositionExpr); ok {
		if p.P != nil {
			return 0, nil, unsupported("a parameter as a column position across shards")
		}
		if p.N < 1 || p.N > g.visible {
			return 0, nil, sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%d' in '%s'", p.N, clause)
		}
		return p.N - 1, g.fields[p.N-1].Expr, nil
	}
	if c, ok := e.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		// A select column of that name first, then an alias.
		for i := 0; i < g.visible; i++ {
			if fc, ok := g.fields[i].Expr.(*ast.ColumnNameExpr); ok && strings.EqualFold(fc.Name.Name.O, c.Name.Name.O) {
				return i, g.fields[i].Expr, nil
			}
		}
		for i := 0; i < g.visible; i++ {
			if strings.EqualFold(g.fields[i].AsName.O, c.Name.Name.O) {
				return i, g.fields[i].Expr, nil
			}
		}
	}
	for i := 0; i < g.visible; i++ {
		if sameExpr(g.fields[i].Expr, e) {
			return i, g.fields[i].Expr, nil
		}
	}
	return g.add(e), e, nil
}
