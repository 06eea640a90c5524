package planner

import (
	"context"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/sqlerror"
)

// Concatenate runs its inputs one after the other and returns all their
// rows, with the first input's fields (UNION ALL). With Distinct set, the
// rows of the first DistinctInputs inputs are de-duplicated (UNION; a
// DISTINCT union removes duplicates of every branch to its left), by
// value or by the weight_string columns each branch carries after its
// Visible columns; the hidden columns are dropped.
type Concatenate struct {
	Sources        []Primitive
	Visible        int
	Hidden         int   // weight_string columns after the visible ones
	Weights        []int // each visible column's weight_string column, or noWeight
	DistinctInputs int
	Order          []OrderKey
}

var _ Primitive = (*Concatenate)(nil)

// Execute implements Primitive.
func (c *Concatenate) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	out := &Result{}
	var kinds []sortKind
	var pads []bool
	seen := map[string]bool{}
	var key []byte
	for i, src := range c.Sources {
		r, err := src.Execute(ctx, vc, args)
		if err != nil {
			return nil, err
		}
		if len(r.Fields) != c.Visible+c.Hidden {
			return nil, errUnion()
		}
		if out.Fields == nil {
			out.Fields = r.Fields
			kinds = columnKinds(r.Fields)
			pads = padsOf(r.Fields)
		} else if c.DistinctInputs > 0 || len(c.Order) > 0 {
			for col := 0; col < c.Visible; col++ {
				if err := sameComparison(out.Fields[col], r.Fields[col]); err != nil {
					return nil, err
				}
			}
		}
		out.Warnings = addWarnings(out.Warnings, r.Warnings)
		for _, row := range r.Rows {
			if i < c.DistinctInputs {
				key = key[:0]
				for col := 0; col < c.Visible; col++ {
					w := noWeight
					if col < len(c.Weights) {
						w = c.Weights[col]
					}
					if key, err = appendGroupKey(key, row, GroupKey{Col: col, Weight: w}, kinds, pads); err != nil {
						return nil, err
					}
				}
				if seen[string(key)] {
					continue
				}
				seen[string(key)] = true
			}
			out.Rows = append(out.Rows, row)
		}
	}
	if len(c.Order) > 0 {
		cols := make([]sortColumn, len(c.Order))
		for i, k := range c.Order {
			sc, err := newSortColumn(out.Fields, k.Col, k.Weight, k.Desc)
			if err != nil {
				return nil, err
			}
			cols[i] = sc
		}
		sortRows(out.Rows, cols)
	}
	if c.Hidden > 0 && out.Fields != nil {
		out.Fields = out.Fields[:c.Visible]
		for i, r := range out.Rows {
			out.Rows[i] = r[:c.Visible]
		}
	}
	return out, nil
}

// Stream implements Primitive.
func (c *Concatenate) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, c, vc, args, fn)
}

// Inputs implements Primitive.
func (c *Concatenate) Inputs() []Primitive { return c.Sources }

func (c *Concatenate) description() Description {
	d := Description{OperatorType: "Concatenate", Other: map[string]any{}}
	if c.DistinctInputs > 0 {
		d.Variant = "Distinct"
		d.Other["DistinctInputs"] = c.DistinctInputs
	}
	if c.Hidden > 0 {
		d.Other["HiddenColumns"] = c.Hidden
	}
	if len(c.Order) > 0 {
		var keys []string
		for _, k := range c.Order {
			s := colRef(k.Col) + " weight_string " + colRef(k.Weight)
			if k.Desc {
				s += " DESC"
			} else {
				s += " ASC"
			}
			keys = append(keys, s)
		}
		d.Other["OrderBy"] = keys
	}
	return d
}

// buildUnion plans UNION [ALL] whose branches do not share one shard:
// each branch is planned alone, the gateway concatenates and removes
// duplicates, then orders and limits.
func (b *builder) buildUnion(u *ast.SetOprStmt) (Primitive, error) {
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
			return nil, unsupported("nested UNION across shards")
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
	c := &Concatenate{Visible: visible, DistinctInputs: lastDistinct + 1}
	if needWeights {
		// Every branch must weigh the same columns (by the first branch).
		for i := 0; i < visible; i++ {
			w := noWeight
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
			c.Order = append(c.Order, OrderKey{Col: col, Weight: c.Weights[col], Desc: item.Desc})
		}
	}
	var top Primitive = c
	if u.Limit != nil {
		l, err := limitOf(u.Limit)
		if err != nil {
			return nil, err
		}
		top = &Limit{Input: top, Spec: *l}
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
