package engine

import (
	"context"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// AggregateOp is how Aggregate combines one column of the shards' rows.
type AggregateOp int

// Aggregate operations.
const (
	AggrCount AggregateOp = iota // COUNT: the sum of the shards' counts
	AggrSum                      // SUM: the sum, NULL when every shard says NULL
	AggrMin                      // MIN: the least non-NULL value
	AggrMax                      // MAX: the greatest non-NULL value
)

var aggrNames = [...]string{"count", "sum", "min", "max"}

func (o AggregateOp) String() string { return aggrNames[o] }

// AggregateColumn is one output column: the operation, and for MIN/MAX of
// character columns the hidden weight_string column (NoWeight if none).
type AggregateColumn struct {
	Op     AggregateOp
	Weight int
}

// Aggregate combines the one-row results of an aggregate query without
// GROUP BY run on several shards into one row; the Trim hidden
// weight_string columns at the end are dropped.
type Aggregate struct {
	Input   Primitive
	Columns []AggregateColumn
	Trim    int
}

var _ Primitive = (*Aggregate)(nil)

// Execute implements Primitive.
func (a *Aggregate) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	r, err := a.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	return a.combine(r)
}

// Stream implements Primitive. An aggregate has one row, so this waits for
// every shard.
func (a *Aggregate) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := a.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	if err := fn(&Result{Fields: r.Fields}); err != nil {
		return err
	}
	return fn(&Result{Rows: r.Rows, Warnings: r.Warnings})
}

func (a *Aggregate) combine(in *Result) (*Result, error) {
	n := len(a.Columns)
	if len(in.Fields) < n+a.Trim {
		return nil, errInternal("aggregate: shards returned %d columns, want %d", len(in.Fields), n+a.Trim)
	}
	out := make([][]byte, n)
	for i, c := range a.Columns {
		v, err := a.column(in, i, c)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return &Result{Fields: in.Fields[:len(in.Fields)-a.Trim], Rows: [][][]byte{out}, Warnings: in.Warnings}, nil
}

func (a *Aggregate) column(in *Result, i int, c AggregateColumn) ([]byte, error) {
	f := in.Fields[i]
	switch c.Op {
	case AggrCount:
		var total uint64
		for _, row := range in.Rows {
			if row[i] == nil {
				continue
			}
			n, err := strconv.ParseUint(string(row[i]), 10, 64)
			if err != nil {
				return nil, errInternal("aggregate: count %q is not a number", row[i])
			}
			total += n
		}
		return strconv.AppendUint(nil, total, 10), nil
	case AggrSum:
		var acc []byte
		isFloat := f.Type == mysql.MYSQL_TYPE_DOUBLE || f.Type == mysql.MYSQL_TYPE_FLOAT
		var fsum float64
		for _, row := range in.Rows {
			v := row[i]
			if v == nil {
				continue
			}
			if isFloat {
				x, err := strconv.ParseFloat(string(v), 64)
				if err != nil {
					return nil, errInternal("aggregate: sum %q is not a number", v)
				}
				fsum += x
				acc = []byte{}
				continue
			}
			if acc == nil {
				acc = v
				continue
			}
			s, ok := addDecimal(string(acc), string(v))
			if !ok {
				return nil, errInternal("aggregate: sum %q is not a number", v)
			}
			acc = []byte(s)
		}
		if acc != nil && isFloat {
			return []byte(formatDouble(fsum)), nil
		}
		return acc, nil
	}
	// MIN, MAX
	weight := NoWeight
	if c.Weight != NoWeight {
		weight = c.Weight
	}
	sc, err := newSortColumn(in.Fields, i, weight, c.Op == AggrMax)
	if err != nil {
		return nil, err
	}
	var best [][]byte
	for _, row := range in.Rows {
		if row[i] == nil {
			continue
		}
		if best == nil || compareRows(row, best, []sortColumn{sc}) < 0 {
			best = row
		}
	}
	if best == nil {
		return nil, nil
	}
	return best[i], nil
}

// Inputs implements Primitive.
func (a *Aggregate) Inputs() []Primitive { return []Primitive{a.Input} }

func (a *Aggregate) description() Description {
	cols := make([]string, len(a.Columns))
	for i, c := range a.Columns {
		s := c.Op.String() + "(" + strconv.Itoa(i) + ")"
		if c.Weight != NoWeight {
			s += " weight_string " + colRef(c.Weight)
		}
		cols[i] = s
	}
	d := Description{OperatorType: "Aggregate", Variant: "Scalar", Other: map[string]any{"Aggregates": cols}}
	if a.Trim > 0 {
		d.Other["HiddenColumns"] = a.Trim
	}
	return d
}
