package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// A query over a derived table that MySQL would materialise and that
// cannot be merged into it — an aggregate, GROUP BY or DISTINCT over a
// grouped, DISTINCT or LIMITed derived table or over a derived UNION,
// WHERE, ORDER BY or LIMIT over a derived table with LIMIT, some columns
// of a derived UNION DISTINCT — is evaluated at the gateway as MySQL
// evaluates it: the derived table's statement is planned on its own, and
// engine.AggregateRows computes the outer query over its rows. The
// derived statement is asked for a few more columns than it has: the
// weight_string of each column the outer query groups, orders or takes
// MIN/MAX of (so strings compare in their collation), and, for a derived
// SELECT, the outer conditions and aggregate arguments that read no
// aggregate of it, which the shards compute per row exactly. The result's
// column types and names are those of the outer query run with WHERE
// 1 != 1 on one shard.

// derivedRows plans sel at the gateway when its only source is a derived
// table of that kind; ok is false for any other query.
func (b *builder) derivedRows(sel *ast.SelectStmt) (engine.Primitive, bool, error) {
	ds := derivedSources(sel)
	if len(ds) != 1 {
		return nil, false, nil
	}
	ts := ds[0].ts
	var join *derivedJoin
	switch sourceCount(sel) {
	case 1:
		if !b.needsDerivedRows(sel, ts) {
			return nil, false, nil
		}
	case 2:
		dts, dj, ok := b.joinedDerived(sel)
		if !ok || dts != ts || !b.outerEvaluable(sel) || !materialised(ts) || hasWildCard(sel) {
			return nil, false, nil
		}
		join = dj
	default:
		return nil, false, nil
	}
	if ts.AsName.O == "" {
		return nil, true, errDerivedAlias()
	}
	p := &rowsPlan{b: b, sel: sel, alias: ts.AsName, join: join}
	switch inner := ts.Source.(type) {
	case *ast.SelectStmt:
		if err := b.inlineCTEs(&inner.With, inner); err != nil {
			return nil, true, err
		}
		cols, err := b.columnsOf(ts.AsName.O, inner)
		if err != nil {
			return nil, true, err
		}
		p.inner, p.names, p.exprs = inner, cols.names, cols.exprs
		distinctToGroupBy(b, inner, cols.exprs)
		if inner.Limit == nil {
			inner.OrderBy = nil // MySQL ignores a derived table's ORDER BY without LIMIT
		}
	case *ast.SetOprStmt:
		if err := p.readUnion(inner); err != nil {
			return nil, true, err
		}
	}
	prim, err := p.plan()
	return prim, true, err
}

// needsDerivedRows says whether sel over the derived table ts is one the
// merge of derived tables cannot take in, and no other refusal applies.
func (b *builder) needsDerivedRows(sel *ast.SelectStmt, ts *ast.TableSource) bool {
	if !b.outerEvaluable(sel) {
		return false
	}
	grouping := sel.GroupBy != nil || sel.Having != nil || findOwn(sel.Fields, isAggregate) ||
		(sel.OrderBy != nil && findOwn(sel.OrderBy, isAggregate)) || isDistinct(sel)
	switch inner := ts.Source.(type) {
	case *ast.SelectStmt:
		if !materialised(ts) {
			return false
		}
		return grouping || (inner.Limit != nil && (sel.Where != nil || sel.OrderBy != nil || sel.Limit != nil))
	case *ast.SetOprStmt:
		if !materialised(ts) {
			return false
		}
		first := inner.SelectList.Selects[0].(*ast.SelectStmt)
		names := make([]string, len(first.Fields.Fields))
		for i, f := range first.Fields.Fields {
			names[i] = derivedFieldName(f)
		}
		star := len(sel.Fields.Fields) == 1 && sel.Fields.Fields[0].WildCard != nil &&
			(sel.Fields.Fields[0].WildCard.Table.O == "" || sel.Fields.Fields[0].WildCard.Table.L == ts.AsName.L)
		return grouping || inner.OrderBy != nil || inner.Limit != nil ||
			(unionDistinct(inner) && !star && !readsEveryColumnOnce(sel, ts.AsName, names))
	}
	return false
}

// outerEvaluable says whether AggregateRows can evaluate sel's own
// clauses (no window functions, subqueries, INTO or locks).
func (b *builder) outerEvaluable(sel *ast.SelectStmt) bool {
	return !(len(sel.WindowSpecs) > 0 || findNode(sel, isWindowFunc) || hasSubquery(sel.Fields) ||
		(sel.Where != nil && hasSubquery(sel.Where)) || (sel.Having != nil && hasSubquery(sel.Having)) ||
		(sel.OrderBy != nil && hasSubquery(sel.OrderBy)) || sel.SelectIntoOpt != nil || sel.LockInfo != nil ||
		(sel.SelectStmtOpts != nil && sel.SelectStmtOpts.CalcFoundRows) || sel.Kind != ast.SelectStmtKindSelect)
}

// materialised says whether derived table ts is one MySQL materialises
// and the merge cannot replace by its table: grouped, aggregated,
// DISTINCT or LIMITed, or a UNION (without * of unknown columns).
func materialised(ts *ast.TableSource) bool {
	switch inner := ts.Source.(type) {
	case *ast.SelectStmt:
		return !plainDerived(inner) && !hasSubquery(inner) && !findNode(inner, isWindowFunc) &&
			!(isDistinct(inner) && (inner.GroupBy != nil || findOwn(inner.Fields, isAggregate)))
	case *ast.SetOprStmt:
		if inner.With != nil || inner.SelectList == nil || len(inner.SelectList.Selects) == 0 {
			return false
		}
		first, ok := inner.SelectList.Selects[0].(*ast.SelectStmt)
		if !ok || first.Fields == nil {
			return false
		}
		for _, f := range first.Fields.Fields {
			if f.WildCard != nil {
				return false
			}
		}
		return true
	}
	return false
}

// hasWildCard says whether sel's select list has a * (over a join: the
// joined table's columns, which the gateway may not know).
func hasWildCard(sel *ast.SelectStmt) bool {
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			return true
		}
	}
	return false
}

func isDistinct(sel *ast.SelectStmt) bool {
	return sel.Distinct || (sel.SelectStmtOpts != nil && sel.SelectStmtOpts.Distinct)
}

// unionDistinct says whether a UNION removes duplicates of any branch.
func unionDistinct(u *ast.SetOprStmt) bool {
	for i, n := range u.SelectList.Selects {
		if br, ok := n.(*ast.SelectStmt); ok && i > 0 && br.AfterSetOperator != nil && *br.AfterSetOperator == ast.Union {
			return true
		}
	}
	return false
}

// distinctToGroupBy makes SELECT DISTINCT a, b a GROUP BY a, b, which
// has the same rows and keeps them when columns are added.
func distinctToGroupBy(b *builder, inner *ast.SelectStmt, exprs []ast.ExprNode) {
	if !isDistinct(inner) || inner.GroupBy != nil || findOwn(inner.Fields, isAggregate) {
		return
	}
	inner.Distinct = false
	if inner.SelectStmtOpts != nil {
		inner.SelectStmtOpts.Distinct = false
	}
	gb := &ast.GroupByClause{}
	for i := range exprs {
		gb.Items = append(gb.Items, &ast.ByItem{Expr: &ast.PositionExpr{N: i + 1}, NullOrder: true})
	}
	inner.GroupBy = gb
}

// rowsPlan is the state of planning one query over a derived table's rows.
type rowsPlan struct {
	b     *builder
	sel   *ast.SelectStmt
	alias ast.CIStr
	// The derived statement: a SELECT (inner) or a UNION (union, its
	// branches), its column names, and a SELECT's column expressions.
	inner    *ast.SelectStmt
	union    *ast.SetOprStmt
	branches []*ast.SelectStmt
	distinct bool // the union removes duplicates: no column may be added
	names    []string
	exprs    []ast.ExprNode
	// join is the table joined with the derived table (nil if none),
	// whose columns come first in the input; base is where the derived
	// table's columns start.
	join *derivedJoin
	base int
	// extra counts the columns added to the derived statement after its
	// own; weights maps an input column to its weight_string column.
	extra   int
	weights map[int]int
	// The result: its columns, computed ones, visible count.
	out      []engine.RowsColumn
	outExpr  []ast.ExprNode
	computed []engine.ComputedColumn
	visible  int
	grouped  bool
	// rollupDesc, for GROUP BY ... WITH ROLLUP, are the items' directions.
	rollupDesc []bool
}

// readUnion reads a derived UNION's branches and column names.
func (p *rowsPlan) readUnion(u *ast.SetOprStmt) error {
	p.union = u
	for i, n := range u.SelectList.Selects {
		br, ok := n.(*ast.SelectStmt)
		if !ok {
			var err error
			if br, err = parenthesizedBranch(n); err != nil {
				return err
			}
			u.SelectList.Selects[i] = br
		}
		if br.Fields == nil {
			return unsupported("TABLE and VALUES statements on sharded tables")
		}
		p.b.expandStarsIfKnown(br)
		for _, f := range br.Fields.Fields {
			if f.WildCard != nil {
				return unsupported("SELECT * in derived tables over tables whose columns the gateway does not know")
			}
		}
		p.branches = append(p.branches, br)
	}
	first, err := p.b.columnsOf(p.alias.O, p.branches[0])
	if err != nil {
		return err
	}
	for _, br := range p.branches[1:] {
		if len(br.Fields.Fields) != len(first.names) {
			return errUnion()
		}
	}
	p.names = first.names
	p.distinct = unionDistinct(u)
	return nil
}

// input is the input column a column reference of the outer query reads,
// or -1 if it names no column of the derived table.
func (p *rowsPlan) input(c *ast.ColumnName) int {
	if p.ownsTable(c) {
		return p.tableColumn(c.Name.O)
	}
	if c.Schema.O != "" || (c.Table.O != "" && c.Table.L != p.alias.L) {
		return -1
	}
	for i, n := range p.names {
		if strings.EqualFold(n, c.Name.O) {
			return p.base + i
		}
	}
	return -1
}

func errUnknownColumn(c *ast.ColumnName, clause string) error {
	name := c.Name.O
	if c.Table.O != "" {
		name = c.Table.O + "." + name
	}
	return sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%s' in '%s'", name, clause)
}

// inputOf is the input column holding e's value per derived row: a
// derived column, or e computed by the shards in a column added to a
// derived SELECT (when it reads no aggregate of it).
func (p *rowsPlan) inputOf(e ast.ExprNode, clause string) (int, error) {
	e = unparen(e)
	if c, ok := e.(*ast.ColumnNameExpr); ok {
		i := p.input(c.Name)
		if i < 0 {
			return 0, errUnknownColumn(c.Name, clause)
		}
		return i, nil
	}
	if p.inner != nil && p.readsDerivedOnly(e) {
		sub, err := p.substitute(e)
		if err != nil {
			return 0, err
		}
		if !findOwn(sub, isAggregate) {
			return p.addInner(sub), nil
		}
	}
	s, _ := restore(e)
	return 0, unsupportedf("the expression %s over a grouped, DISTINCT or LIMITed derived table or a derived UNION across shards", s)
}

// substitute is a copy of e with the derived columns it reads replaced
// by the expressions of the derived SELECT that define them.
func (p *rowsPlan) substitute(e ast.ExprNode) (ast.ExprNode, error) {
	cp, err := cloneExpr(p.b, e)
	if err != nil {
		return nil, err
	}
	r := &derivedRefs{p: p}
	n, _ := cp.Accept(r)
	return n.(ast.ExprNode), r.err
}

type derivedRefs struct {
	p   *rowsPlan
	err error
}

func (r *derivedRefs) Enter(n ast.Node) (ast.Node, bool) {
	_, col := n.(*ast.ColumnNameExpr)
	return n, col
}

func (r *derivedRefs) Leave(n ast.Node) (ast.Node, bool) {
	c, ok := n.(*ast.ColumnNameExpr)
	if !ok {
		return n, true
	}
	i := r.p.input(c.Name) - r.p.base
	if i < 0 || i >= len(r.p.names) {
		if r.err == nil {
			r.err = errUnknownColumn(c.Name, "field list")
		}
		return n, true
	}
	e, err := cloneExpr(r.p.b, r.p.exprs[i])
	if err != nil && r.err == nil {
		r.err = err
	}
	return &ast.ParenthesesExpr{Expr: e}, true
}

// addInner adds e as a column of the derived SELECT.
func (p *rowsPlan) addInner(e ast.ExprNode) int {
	p.inner.Fields.Fields = append(p.inner.Fields.Fields, &ast.SelectField{Expr: e})
	p.extra++
	return p.base + len(p.names) + p.extra - 1
}

// weight is the weight_string column of input column in, or NoWeight
// where the derived statement cannot give one (a number-valued
// aggregate needs none; the engine refuses to compare a string without).
func (p *rowsPlan) weight(in int) int {
	if w, ok := p.weights[in]; ok {
		return w
	}
	if in < p.base {
		return in + 1 // the joined table's columns come with their weights
	}
	w := p.leftWeight(in - p.base)
	if w != engine.NoWeight {
		w += p.base
	}
	p.weights[in] = w
	return w
}

// leftWeight is weight for column in of the derived statement, counted
// in its own columns.
func (p *rowsPlan) leftWeight(in int) int {
	w := engine.NoWeight
	switch {
	case p.inner != nil:
		var e ast.ExprNode
		if in < len(p.names) {
			e = p.exprs[in]
		} else {
			e = p.inner.Fields.Fields[in].Expr
		}
		if !findOwn(e, isAggregate) {
			if c, err := cloneExpr(p.b, e); err == nil {
				w = p.addInner(weightOf(c)) - p.base
			}
		}
	case p.distinct:
		// The Concatenate's own weight_string columns, kept.
		if in < len(p.names) && needsWeight(p.branches[0].Fields.Fields[in].Expr) {
			w = len(p.names)
			for j := 0; j < in; j++ {
				if needsWeight(p.branches[0].Fields.Fields[j].Expr) {
					w++
				}
			}
		}
	case in < len(p.names):
		for _, br := range p.branches {
			if findOwn(br.Fields.Fields[in].Expr, isAggregate) {
				return w
			}
		}
		for _, br := range p.branches {
			c, err := cloneExpr(p.b, br.Fields.Fields[in].Expr)
			if err != nil {
				return w
			}
			br.Fields.Fields = append(br.Fields.Fields, &ast.SelectField{Expr: weightOf(c)})
		}
		p.extra++
		w = len(p.names) + p.extra - 1
	}
	return w
}

// addOut adds a result column read by expression e (nil if none).
func (p *rowsPlan) addOut(c engine.RowsColumn, e ast.ExprNode) int {
	p.out = append(p.out, c)
	p.outExpr = append(p.outExpr, e)
	return len(p.out) - 1
}

// plainOut is the result column copying input column in, added hidden if
// no column does yet.
func (p *rowsPlan) plainOut(in int) int {
	for i, c := range p.out {
		if !c.Aggregate && c.Col == in {
			return i
		}
	}
	return p.addOut(engine.RowsColumn{Col: in, Weight: engine.NoWeight}, nil)
}

// aggregateOut is the result column of aggregate a, added hidden if no
// column computes it yet.
func (p *rowsPlan) aggregateOut(a *ast.AggregateFuncExpr) (int, error) {
	for i, e := range p.outExpr {
		if e != nil && p.out[i].Aggregate && !p.out[i].WinnerWeight && sameExpr(e, a) {
			return i, nil
		}
	}
	c, err := p.aggregate(a)
	if err != nil {
		return 0, err
	}
	return p.addOut(c, a), nil
}

// aggregate plans aggregate a over the input's values.
func (p *rowsPlan) aggregate(a *ast.AggregateFuncExpr) (engine.RowsColumn, error) {
	p.grouped = true
	name := strings.ToLower(a.F)
	c := engine.RowsColumn{Aggregate: true, Col: engine.NoColumn, Weight: engine.NoWeight}
	args := a.Args
	if name == ast.AggFuncGroupConcat {
		if len(args) != 2 {
			return c, unsupported("GROUP_CONCAT of several expressions over a grouped, DISTINCT or LIMITed derived table or a derived UNION across shards")
		}
		sep, ok := args[1].(*valueExpr)
		sepText, isStr := "", false
		if ok {
			sepText, isStr = sep.val.(string)
		}
		if !isStr {
			return c, unsupported("GROUP_CONCAT with this SEPARATOR across shards")
		}
		in, err := p.inputOf(args[0], "field list")
		if err != nil {
			return c, err
		}
		gc := &engine.GroupConcat{Elem: in, Times: 0, Separator: sepText}
		if a.Distinct {
			gc.Times = -1
			gc.Keys = []engine.GroupKey{{Col: in, Weight: p.weight(in)}}
		}
		if a.Order != nil {
			for _, item := range a.Order.Items {
				e := item.Expr
				if pos, ok := e.(*ast.PositionExpr); ok && pos.P == nil && pos.N == 1 {
					e = args[0]
				}
				switch e.(type) {
				case *ast.PositionExpr, ast.ValueExpr:
					return c, unsupported("GROUP_CONCAT ordered by a position or a constant across shards")
				}
				oc, err := p.inputOf(e, "order clause")
				if err != nil {
					return c, err
				}
				gc.Order = append(gc.Order, engine.OrderKey{Col: oc, Weight: p.weight(oc), Desc: item.Desc})
			}
		}
		c.Op, c.Concat = engine.AggrGroupConcat, gc
		return c, nil
	}
	if name == ast.AggFuncCount && !a.Distinct && len(args) == 1 {
		if v, ok := args[0].(*valueExpr); ok && v.val != nil {
			c.Op = engine.AggrCount // COUNT(*), COUNT(1): every row
			return c, nil
		}
	}
	if len(args) != 1 && !(a.Distinct && name == ast.AggFuncCount) {
		return c, unsupportedf("%s of several expressions across shards", strings.ToUpper(a.F))
	}
	ins := make([]int, len(args))
	for i, arg := range args {
		in, err := p.inputOf(arg, "field list")
		if err != nil {
			return c, err
		}
		ins[i] = in
	}
	c.Col = ins[0]
	if a.Distinct && name != ast.AggFuncMin && name != ast.AggFuncMax {
		for _, in := range ins {
			c.Distinct = append(c.Distinct, engine.GroupKey{Col: in, Weight: p.weight(in)})
		}
	}
	switch {
	case name == ast.AggFuncCount && a.Distinct:
		c.Op = engine.AggrCountDistinct
	case name == ast.AggFuncSum && a.Distinct:
		c.Op = engine.AggrSumDistinct
	case name == ast.AggFuncAvg && a.Distinct:
		c.Op = engine.AggrAvgDistinct
	case name == ast.AggFuncCount:
		c.Op = engine.AggrCount
	case name == ast.AggFuncSum:
		c.Op = engine.AggrSum
	case name == ast.AggFuncAvg:
		c.Op = engine.AggrAvg
	case name == ast.AggFuncMin || name == ast.AggFuncMax:
		c.Op = engine.AggrMin
		if name == ast.AggFuncMax {
			c.Op = engine.AggrMax
		}
		c.Weight = p.weight(c.Col)
	default:
		return c, unsupportedf("%s over a grouped, DISTINCT or LIMITed derived table or a derived UNION across shards", strings.ToUpper(a.F))
	}
	return c, nil
}

// leaf maps an operand of a computed expression to its result column.
func (p *rowsPlan) leaf(e ast.ExprNode) (int, error) {
	if a, ok := e.(*ast.AggregateFuncExpr); ok {
		return p.aggregateOut(a)
	}
	in, err := p.inputOf(e, "field list")
	if err != nil {
		return 0, err
	}
	return p.plainOut(in), nil
}

// computedOut adds a result column computed from e by the gateway.
func (p *rowsPlan) computedOut(e ast.ExprNode, clause string) (int, error) {
	col := p.addOut(engine.RowsColumn{Col: engine.NoColumn, Weight: engine.NoWeight}, e)
	fn, err := compileIn(e, p.leaf, clause)
	if err != nil {
		return 0, err
	}
	text, _ := restore(e)
	p.computed = append(p.computed, engine.ComputedColumn{Col: col, Expr: fn, Text: text})
	return col, nil
}
