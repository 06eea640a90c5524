package engine

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Filter keeps the rows of its input for which Predicate is true (not
// false, not NULL), as MySQL's WHERE does: for conditions the shards
// cannot evaluate because they read rows made at the gateway (a WHERE
// term on the NULL-extended side of a LEFT JOIN, `o.id IS NULL`, or one
// comparing columns of two tables of a gateway join). Trim hidden
// columns at the end of each row (the predicate's operands) are dropped
// after it is evaluated. Rows stream through.
type Filter struct {
	Input     Primitive
	Predicate Expr
	// Text is the condition as written, for VEXPLAIN.
	Text string
	Trim int
}

var _ Primitive = (*Filter)(nil)

// Execute implements Primitive.
func (f *Filter) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	in, err := f.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	fields, err := f.fields(in.Fields)
	if err != nil {
		return nil, err
	}
	ec := newEvalCtx(in.Fields, evalEnvOf(vc))
	out := &Result{Fields: fields, Warnings: in.Warnings}
	out.Rows, err = f.keep(in.Rows, ec, args, len(fields))
	return out, err
}

func (f *Filter) fields(in []*mysql.Field) ([]*mysql.Field, error) {
	if len(in) < f.Trim {
		return nil, errInternal("filter: %d columns, %d hidden", len(in), f.Trim)
	}
	return in[:len(in)-f.Trim], nil
}

// keep returns the rows the predicate accepts, cut to n columns.
func (f *Filter) keep(rows [][][]byte, ec *evalCtx, args []any, n int) ([][][]byte, error) {
	var out [][][]byte
	for _, row := range rows {
		v, err := f.Predicate(row, ec, args)
		if err != nil {
			return nil, err
		}
		if t, null := v.truth(); !t || null {
			continue
		}
		out = append(out, row[:n])
	}
	return out, nil
}

// Stream implements Primitive: each batch of the input is filtered as it
// comes.
func (f *Filter) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	var ec *evalCtx
	n := 0
	return streamMapped(ctx, f.Input, vc, args, "filter",
		func(in []*mysql.Field) ([]*mysql.Field, error) {
			fields, err := f.fields(in)
			ec, n = newEvalCtx(in, evalEnvOf(vc)), len(fields)
			return fields, err
		},
		func(rows [][][]byte) ([][][]byte, error) { return f.keep(rows, ec, args, n) },
		fn)
}

// Inputs implements Primitive.
func (f *Filter) Inputs() []Primitive { return []Primitive{f.Input} }

func (f *Filter) description() Description {
	d := Description{OperatorType: "Filter", Other: map[string]any{"Predicate": f.Text}}
	if f.Trim > 0 {
		d.Other["HiddenColumns"] = f.Trim
	}
	return d
}
