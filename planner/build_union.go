package planner

import (
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// buildUnion plans set operations (UNION [ALL], INTERSECT [ALL], EXCEPT
// [ALL], nested in parentheses) whose branches do not share one shard:
// each SELECT is planned alone, the gateway combines their rows (removing
// duplicates by every column's weight_string, so by its collation), then
// orders and limits. Every SELECT carries the same hidden columns after
// its own: the weight_strings of the columns that have one, then each
// ORDER BY expression of the whole result written over that SELECT's
// columns (setop_order.go).
func (b *builder) buildUnion(u *ast.SetOprStmt) (engine.Primitive, error) {
	if u.With != nil {
		return nil, unsupported("WITH (common table expressions) on sharded tables")
	}
	if u.SelectList == nil || len(u.SelectList.Selects) == 0 {
		return nil, errInternal("empty UNION")
	}
	top, err := readSetList(u.SelectList, u.OrderBy, u.Limit)
	if err != nil {
		return nil, err
	}
	leaves := top.leaves(nil)
	needWeights := top.needsKeys()
	visible := -1
	for _, sel := range leaves {
		if sel.Fields == nil {
			return nil, unsupported("TABLE and VALUES statements on sharded tables")
		}
		if needWeights {
			b.expandStarsIfKnown(sel)
		}
		if err := keepFieldNames(sel); err != nil {
			return nil, err
		}
		n := len(sel.Fields.Fields)
		if visible < 0 {
			visible = n
		} else if n != visible {
			return nil, errUnion()
		}
		if !needWeights {
			continue
		}
		for _, f := range sel.Fields.Fields {
			if f.WildCard != nil {
				return nil, unsupported("* in UNION or ordered UNION ALL across shards")
			}
		}
	}
	lay := &setLayout{visible: visible, weights: make([]int, visible)}
	if needWeights {
		// Every SELECT weighs the same columns (by the first one).
		for i := range visible {
			lay.weights[i] = engine.NoWeight
			if needsWeight(leaves[0].Fields.Fields[i].Expr) {
				lay.weights[i] = visible + lay.hidden
				lay.hidden++
			}
		}
		for _, sel := range leaves {
			for i := range visible {
				if lay.weights[i] == engine.NoWeight {
					if needsWeight(sel.Fields.Fields[i].Expr) {
						return nil, unsupported("UNION of aggregate and plain columns in the same position across shards")
					}
					continue
				}
				if !needsWeight(sel.Fields.Fields[i].Expr) {
					return nil, unsupported("UNION of aggregate and plain columns in the same position across shards")
				}
			}
		}
	} else {
		for i := range lay.weights {
			lay.weights[i] = engine.NoWeight
		}
	}
	order, err := b.setOrder(top, leaves, lay)
	if err != nil {
		return nil, err
	}
	for _, sel := range leaves {
		fields := sel.Fields.Fields[:visible]
		for i := range visible {
			if lay.weights[i] != engine.NoWeight {
				sel.Fields.Fields = append(sel.Fields.Fields, &ast.SelectField{Expr: weightOf(fields[i].Expr)})
			}
		}
	}
	if err := b.appendOrderColumns(leaves, order); err != nil {
		return nil, err
	}
	p, err := b.buildSetList(top, lay, true)
	if err != nil {
		return nil, err
	}
	if c, ok := p.(*engine.Concatenate); ok {
		c.Order = order.keys
	} else if len(order.keys) > 0 {
		return nil, errInternal("ordered set operation without a Concatenate")
	}
	if u.Limit != nil {
		l, err := limitOf(u.Limit)
		if err != nil {
			return nil, err
		}
		p = &engine.Limit{Input: p, Spec: *l}
	}
	return p, nil
}

// setList is one level of a set operation: its operands, each a SELECT
// or a parenthesised set operation, and the ORDER BY and LIMIT of a
// parenthesised one.
type setList struct {
	terms   []setTerm
	orderBy *ast.OrderByClause
	limit   *ast.Limit
}

type setTerm struct {
	op     ast.SetOprType // the operator before it (unused for the first)
	sel    *ast.SelectStmt
	nested *setList
}

// setLayout is what every SELECT of the operation returns: the visible
// columns, then hidden ones.
type setLayout struct {
	visible int
	hidden  int
	weights []int // each visible column's weight_string column, or NoWeight
}

// readSetList reads the parser's list. A parenthesised single SELECT is
// a branch with its own ORDER BY and LIMIT; INTERSECT binds tighter than
// UNION and EXCEPT (MariaDB's precedence; the parser lists them flat), so
// a run of INTERSECTs becomes a nested list.
func readSetList(list *ast.SetOprSelectList, orderBy *ast.OrderByClause, limit *ast.Limit) (*setList, error) {
	l := &setList{orderBy: orderBy, limit: limit}
	for i, n := range list.Selects {
		var t setTerm
		var after *ast.SetOprType
		switch x := n.(type) {
		case *ast.SelectStmt:
			t.sel, after = x, x.AfterSetOperator
		case *ast.SetOprSelectList:
			if x.With != nil {
				return nil, unsupported("WITH inside a set operation across shards")
			}
			after = x.AfterSetOperator
			if len(x.Selects) == 1 {
				sel, err := parenthesizedBranch(x)
				if err != nil {
					return nil, err
				}
				t.sel = sel
				break
			}
			nested, err := readSetList(x, x.OrderBy, x.Limit)
			if err != nil {
				return nil, err
			}
			if nested.orderBy != nil && nested.limit == nil {
				nested.orderBy = nil // MySQL ignores ORDER BY without LIMIT there
			}
			t.nested = nested
		default:
			return nil, unsupported("this set operation across shards")
		}
		if i > 0 {
			if after == nil {
				return nil, unsupported("this set operation across shards")
			}
			t.op = *after
		}
		if t.sel != nil {
			t.sel.AfterSetOperator = nil
		}
		l.terms = append(l.terms, t)
	}
	l.bindIntersect()
	return l, nil
}

func isIntersect(op ast.SetOprType) bool { return op == ast.Intersect || op == ast.IntersectAll }

// bindIntersect nests each run of INTERSECTs of a list that also has
// other operators.
func (l *setList) bindIntersect() {
	mixed, intersects := false, false
	for _, t := range l.terms[1:] {
		if isIntersect(t.op) {
			intersects = true
		} else {
			mixed = true
		}
	}
	if !intersects || !mixed {
		return
	}
	var out []setTerm
	for i, t := range l.terms {
		if i == 0 || !isIntersect(t.op) {
			out = append(out, t)
			continue
		}
		last := &out[len(out)-1]
		if last.sel != nil || last.nested.orderBy != nil || last.nested.limit != nil || len(last.nested.terms) < 2 || !isIntersect(last.nested.terms[1].op) {
			first := setTerm{sel: last.sel, nested: last.nested}
			*last = setTerm{op: last.op, nested: &setList{terms: []setTerm{first}}}
		}
		last.nested.terms = append(last.nested.terms, t)
	}
	l.terms = out
}

// leaves appends the list's SELECTs in order.
func (l *setList) leaves(out []*ast.SelectStmt) []*ast.SelectStmt {
	for _, t := range l.terms {
		if t.sel != nil {
			out = append(out, t.sel)
		} else {
			out = t.nested.leaves(out)
		}
	}
	return out
}

// needsKeys reports whether rows must be compared anywhere: a DISTINCT
// operator, INTERSECT or EXCEPT, or an ORDER BY.
func (l *setList) needsKeys() bool {
	if l.orderBy != nil {
		return true
	}
	for i, t := range l.terms {
		if i > 0 && t.op != ast.UnionAll {
			return true
		}
		if t.nested != nil && t.nested.needsKeys() {
			return true
		}
	}
	return false
}

// buildSetList plans one level: a Concatenate of its operands. Below the
// top a level keeps its hidden columns for the level it feeds.
func (b *builder) buildSetList(l *setList, lay *setLayout, top bool) (engine.Primitive, error) {
	c := &engine.Concatenate{Visible: lay.visible, KeepHidden: !top}
	if lay.hidden > 0 || slices.ContainsFunc(lay.weights, func(w int) bool { return w != engine.NoWeight }) {
		c.Hidden, c.Weights = lay.hidden, lay.weights
	}
	plainUnion := true
	lastDistinct := -1
	for i, t := range l.terms {
		if i == 0 {
			continue
		}
		switch t.op {
		case ast.Union:
			lastDistinct = i
		case ast.UnionAll:
		default:
			plainUnion = false
		}
	}
	for i, t := range l.terms {
		var p engine.Primitive
		var err error
		if t.sel != nil {
			p, err = b.buildSelect(t.sel)
		} else {
			p, err = b.buildSetList(t.nested, lay, false)
		}
		if err != nil {
			return nil, err
		}
		c.Sources = append(c.Sources, p)
		if i > 0 && !plainUnion {
			c.Ops = append(c.Ops, setOperator(t.op))
		}
	}
	if plainUnion {
		c.DistinctInputs = lastDistinct + 1
	}
	if top {
		return c, nil
	}
	if l.limit == nil {
		return c, nil
	}
	if l.orderBy != nil {
		keys, err := setOrderKeys(l, lay)
		if err != nil {
			return nil, err
		}
		c.Order = keys
	}
	lim, err := limitOf(l.limit)
	if err != nil {
		return nil, err
	}
	return &engine.Limit{Input: c, Spec: *lim}, nil
}

func setOperator(op ast.SetOprType) engine.SetOperator {
	switch op {
	case ast.Union:
		return engine.SetUnion
	case ast.Intersect:
		return engine.SetIntersect
	case ast.IntersectAll:
		return engine.SetIntersectAll
	case ast.Except:
		return engine.SetExcept
	case ast.ExceptAll:
		return engine.SetExceptAll
	}
	return engine.SetUnionAll
}

// needsWeight reports whether a UNION column needs its weight_string to be
// compared: not a COUNT, SUM or AVG (numbers), whose weight_string would be
// an expression of an aggregate.
func needsWeight(e ast.ExprNode) bool {
	a, ok := unparen(e).(*ast.AggregateFuncExpr)
	if !ok {
		return true
	}
	switch strings.ToLower(a.F) {
	case ast.AggFuncCount, ast.AggFuncSum, ast.AggFuncAvg:
		return false
	}
	return true
}

// errUnion is ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT.
func errUnion() error {
	return sqlerror.New(sqlerror.User, mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT, "The used SELECT statements have a different number of columns")
}

// parenthesizedBranch is the SELECT of a parenthesized UNION branch,
// `(select ... order by ... limit n)`, carrying the parentheses' ORDER BY
// and LIMIT (applied to the branch alone, as in MySQL) and the set
// operator before it.
func parenthesizedBranch(n ast.Node) (*ast.SelectStmt, error) {
	l, ok := n.(*ast.SetOprSelectList)
	if !ok || l.With != nil || len(l.Selects) != 1 {
		return nil, unsupported("nested UNION across shards")
	}
	sel, ok := l.Selects[0].(*ast.SelectStmt)
	if !ok || (l.OrderBy != nil && sel.OrderBy != nil) || (l.Limit != nil && sel.Limit != nil) {
		return nil, unsupported("nested UNION across shards")
	}
	if l.OrderBy != nil {
		sel.OrderBy = l.OrderBy
	}
	if l.Limit != nil {
		sel.Limit = l.Limit
	}
	if sel.OrderBy != nil && sel.Limit == nil {
		sel.OrderBy = nil // MySQL ignores a branch's ORDER BY without LIMIT
	}
	sel.AfterSetOperator = l.AfterSetOperator
	sel.IsInBraces = false
	return sel, nil
}
