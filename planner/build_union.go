package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// buildUnion plans UNION [ALL] whose branches do not share one shard:
// each branch is planned alone, the gateway concatenates and removes
// duplicates, then orders and limits.
func (b *builder) buildUnion(u *ast.SetOprStmt) (engine.Primitive, error) {
	if u.With != nil {
		return nil, unsupported("WITH (common table expressions) on sharded tables")
	}
	list := u.SelectList
	if list == nil || len(list.Selects) == 0 {
		return nil, errInternal("empty UNION")
	}
	lastDistinct := -1
	var sels []*ast.SelectStmt
	for i, n := range list.Selects {
		sel, ok := n.(*ast.SelectStmt)
		if !ok {
			var err error
			if sel, err = parenthesizedBranch(n); err != nil {
				return nil, err
			}
		}
		if i > 0 {
			if sel.AfterSetOperator == nil {
				return nil, unsupported("this set operation across shards")
			}
			switch *sel.AfterSetOperator {
			case ast.Union:
				lastDistinct = i
			case ast.UnionAll:
			default:
				return nil, unsupported("INTERSECT and EXCEPT across shards")
			}
		}
		sels = append(sels, sel)
	}
	needWeights := lastDistinct >= 0 || u.OrderBy != nil
	visible := -1
	for _, sel := range sels {
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
		for i := 0; i < n; i++ {
			if !needsWeight(sel.Fields.Fields[i].Expr) {
				continue
			}
			sel.Fields.Fields = append(sel.Fields.Fields, &ast.SelectField{Expr: weightOf(sel.Fields.Fields[i].Expr)})
		}
	}
	c := &engine.Concatenate{Visible: visible, DistinctInputs: lastDistinct + 1}
	if needWeights {
		// Every branch must weigh the same columns (by the first branch).
		for i := 0; i < visible; i++ {
			w := engine.NoWeight
			if needsWeight(sels[0].Fields.Fields[i].Expr) {
				w = visible + c.Hidden
				c.Hidden++
			}
			c.Weights = append(c.Weights, w)
		}
		for _, sel := range sels[1:] {
			if len(sel.Fields.Fields) != visible+c.Hidden {
				return nil, unsupported("UNION of aggregate and plain columns in the same position across shards")
			}
		}
	}
	for _, sel := range sels {
		sel.AfterSetOperator = nil
		p, err := b.buildSelect(sel)
		if err != nil {
			return nil, err
		}
		c.Sources = append(c.Sources, p)
	}
	if u.OrderBy != nil {
		first := sels[0].Fields.Fields
		for _, item := range u.OrderBy.Items {
			col := -1
			switch x := item.Expr.(type) {
			case *ast.PositionExpr:
				if x.P == nil && x.N >= 1 && x.N <= visible {
					col = x.N - 1
				}
			case *ast.ColumnNameExpr:
				for i := 0; i < visible; i++ {
					if fieldName(first[i]) == x.Name.Name.O || first[i].AsName.L == x.Name.Name.L {
						col = i
						break
					}
					if fc, ok := first[i].Expr.(*ast.ColumnNameExpr); ok && fc.Name.Name.L == x.Name.Name.L && first[i].AsName.O == "" {
						col = i
						break
					}
				}
			}
			if col < 0 {
				s, _ := restore(item.Expr)
				return nil, unsupportedf("ORDER BY %s on a UNION across shards (use a column of the result)", s)
			}
			c.Order = append(c.Order, engine.OrderKey{Col: col, Weight: c.Weights[col], Desc: item.Desc})
		}
	}
	var top engine.Primitive = c
	if u.Limit != nil {
		l, err := limitOf(u.Limit)
		if err != nil {
			return nil, err
		}
		top = &engine.Limit{Input: top, Spec: *l}
	}
	return top, nil
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
// operator before it. A branch that is itself a UNION is refused.
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
