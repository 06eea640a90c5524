package engine

import (
	"context"
	"slices"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/sqlerror"
)

// Concatenate runs its inputs one after the other and returns all their
// rows, with the first input's fields (UNION ALL). With Distinct set, the
// rows of the first DistinctInputs inputs are de-duplicated (UNION; a
// DISTINCT union removes duplicates of every branch to its left), by
// value or by the weight_string columns each branch carries after its
// Visible columns; the hidden columns are dropped.
//
// With Ops set, the inputs are combined left to right by those operators
// instead (setop.go: INTERSECT and EXCEPT, UNION in a chain with them).
type Concatenate struct {
	Sources        []Primitive
	Visible        int
	Hidden         int   // columns after the visible ones: weight_strings, ORDER BY expressions
	Weights        []int // each visible column's weight_string column, or NoWeight
	DistinctInputs int
	// Ops is the operator before each input after the first (len(Sources)-1).
	Ops   []SetOperator
	Order []OrderKey
	// KeepHidden passes the hidden columns on: a nested set operation
	// feeds one that compares or orders by them too.
	KeepHidden bool
}

var _ Primitive = (*Concatenate)(nil)

// Execute implements Primitive.
func (c *Concatenate) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	out := &Result{}
	var kinds []sortKind
	var pads []bool
	seen := map[string]bool{}
	var key []byte
	var acc keyedRows
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
		} else if c.DistinctInputs > 0 || len(c.Order) > 0 || c.Ops != nil {
			for col := 0; col < c.Visible; col++ {
				if err := sameComparison(out.Fields[col], r.Fields[col]); err != nil {
					return nil, err
				}
			}
			for _, k := range c.Order {
				if k.Col >= c.Visible {
					if err := sameComparison(out.Fields[k.Col], r.Fields[k.Col]); err != nil {
						return nil, err
					}
				}
			}
		}
		if i > 0 {
			out.Fields = widenIntegers(out.Fields, r.Fields, c.Visible)
		}
		out.Warnings = addWarnings(out.Warnings, r.Warnings)
		if c.Ops != nil {
			next := keyedRows{rows: r.Rows, keys: make([]string, len(r.Rows))}
			for j, row := range r.Rows {
				if key, err = c.appendKey(key[:0], row, kinds, pads); err != nil {
					return nil, err
				}
				next.keys[j] = string(key)
			}
			if i == 0 {
				acc = next
			} else {
				acc = applySetOp(c.Ops[i-1], acc, next)
			}
			continue
		}
		for _, row := range r.Rows {
			if i < c.DistinctInputs {
				if key, err = c.appendKey(key[:0], row, kinds, pads); err != nil {
					return nil, err
				}
				if seen[string(key)] {
					continue
				}
				seen[string(key)] = true
			}
			out.Rows = append(out.Rows, row)
		}
	}
	if c.Ops != nil {
		out.Rows = acc.rows
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
	if c.Hidden > 0 && out.Fields != nil && !c.KeepHidden {
		out.Fields = out.Fields[:c.Visible]
		for i, r := range out.Rows {
			out.Rows[i] = r[:c.Visible]
		}
	}
	return out, nil
}

// appendKey appends the row's comparison key: every visible column, by
// its weight_string where it has one.
func (c *Concatenate) appendKey(key []byte, row [][]byte, kinds []sortKind, pads []bool) ([]byte, error) {
	var err error
	for col := 0; col < c.Visible; col++ {
		w := NoWeight
		if col < len(c.Weights) {
			w = c.Weights[col]
		}
		if key, err = appendGroupKey(key, row, GroupKey{Col: col, Weight: w}, kinds, pads); err != nil {
			return nil, err
		}
	}
	return key, nil
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
	if c.Ops != nil {
		d.Variant = "SetOp"
		ops := make([]string, len(c.Ops))
		for i, o := range c.Ops {
			ops[i] = o.String()
		}
		d.Other["Operators"] = ops
	}
	if c.Hidden > 0 {
		d.Other["HiddenColumns"] = c.Hidden
	}
	if c.KeepHidden {
		d.Other["KeepHidden"] = true
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

// errUnion is ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT.
func errUnion() error {
	return sqlerror.New(sqlerror.User, mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT, "The used SELECT statements have a different number of columns")
}

// integerWidth orders MySQL's integer types by width (0: not an integer).
func integerWidth(t byte) int {
	switch t {
	case mysql.MYSQL_TYPE_TINY:
		return 1
	case mysql.MYSQL_TYPE_SHORT:
		return 2
	case mysql.MYSQL_TYPE_INT24:
		return 3
	case mysql.MYSQL_TYPE_LONG:
		return 4
	case mysql.MYSQL_TYPE_LONGLONG:
		return 5
	}
	return 0
}

// widenIntegers gives a result column the wider integer type of two
// inputs of the same signedness, as MySQL aggregates a set operation's
// column types (TINYINT INTERSECT INT is INT); other types stay the first
// input's. fields is copied before it changes.
func widenIntegers(fields, next []*mysql.Field, visible int) []*mysql.Field {
	copied := false
	for col := 0; col < visible && col < len(fields) && col < len(next); col++ {
		a, b := fields[col], next[col]
		wa, wb := integerWidth(a.Type), integerWidth(b.Type)
		if wa == 0 || wb <= wa || (a.Flag&mysql.UNSIGNED_FLAG) != (b.Flag&mysql.UNSIGNED_FLAG) {
			continue
		}
		if !copied {
			fields = slices.Clone(fields)
			copied = true
		}
		f := *a
		f.Type = b.Type
		f.ColumnLength = max(a.ColumnLength, b.ColumnLength)
		f.Data = nil // the backend's packet says the old type: encode anew
		fields[col] = &f
	}
	return fields
}
