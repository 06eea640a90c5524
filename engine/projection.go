package engine

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// ProjectedColumn is one output column of a Projection: input column Col
// (negative: from the end) as it is, or, with Expr, a value computed from
// the input row; Text is the expression as written, for VEXPLAIN.
type ProjectedColumn struct {
	Col  int
	Expr Expr
	Text string
}

// Projection computes its output columns from rows made at the gateway,
// where no shard sees all the operands of an expression: `u.age +
// o.amount` over a gateway join's rows. The evaluator computes values
// only; each computed column's field (name, type, DECIMAL scale) comes
// from TypeProbe, the same expressions sent to one shard with WHERE 1 !=
// 1, so it is MySQL's type for the expression, and the value is printed
// in that type. Rows stream through.
type Projection struct {
	Input Primitive
	Cols  []ProjectedColumn
	// TypeProbe's Cols are output columns: the computed ones.
	TypeProbe *TypeProbe
}

var _ Primitive = (*Projection)(nil)

// Execute implements Primitive.
func (p *Projection) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	probed, err := p.probe(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	in, err := p.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	fields, err := p.fields(in.Fields, probed)
	if err != nil {
		return nil, err
	}
	rows, err := p.project(in.Rows, newEvalCtx(in.Fields, evalEnvOf(vc)), fields, args)
	if err != nil {
		return nil, err
	}
	return &Result{Fields: fields, Rows: rows, Warnings: in.Warnings}, nil
}

// probe runs the type probe: the fields of the computed columns.
func (p *Projection) probe(ctx context.Context, vc VCursor, args []any) (map[int]*mysql.Field, error) {
	out := map[int]*mysql.Field{}
	if p.TypeProbe == nil {
		return out, nil
	}
	pr, err := p.TypeProbe.Route.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	if len(pr.Fields) != len(p.TypeProbe.Cols) {
		return nil, errInternal("projection type probe returned %d columns, want %d", len(pr.Fields), len(p.TypeProbe.Cols))
	}
	for i, col := range p.TypeProbe.Cols {
		out[col] = pr.Fields[i]
	}
	return out, nil
}

// fields are the output fields: the input's for its columns, the probe's
// for computed ones.
func (p *Projection) fields(in []*mysql.Field, probed map[int]*mysql.Field) ([]*mysql.Field, error) {
	out := make([]*mysql.Field, len(p.Cols))
	for i, c := range p.Cols {
		if c.Expr != nil {
			f, ok := probed[i]
			if !ok {
				return nil, errInternal("projection: no type for computed column %d", i)
			}
			out[i] = f
			continue
		}
		col := resolveColumn(c.Col, len(in))
		if col < 0 || col >= len(in) {
			return nil, errInternal("projection column %d out of range: %d columns", c.Col, len(in))
		}
		out[i] = in[col]
	}
	return out, nil
}

// project computes the output rows.
func (p *Projection) project(rows [][][]byte, ec *evalCtx, out []*mysql.Field, args []any) ([][][]byte, error) {
	res := make([][][]byte, len(rows))
	for r, row := range rows {
		o := make([][]byte, len(p.Cols))
		for i, c := range p.Cols {
			if c.Expr == nil {
				o[i] = row[resolveColumn(c.Col, len(row))]
				continue
			}
			v, err := c.Expr(row, ec, args)
			if err != nil {
				return nil, err
			}
			o[i] = formatAs(v, out[i])
		}
		res[r] = o
	}
	return res, nil
}

// Stream implements Primitive.
func (p *Projection) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	probed, err := p.probe(ctx, vc, args)
	if err != nil {
		return err
	}
	var ec *evalCtx
	var out []*mysql.Field
	return streamMapped(ctx, p.Input, vc, args, "projection",
		func(in []*mysql.Field) ([]*mysql.Field, error) {
			fields, err := p.fields(in, probed)
			ec, out = newEvalCtx(in, evalEnvOf(vc)), fields
			return fields, err
		},
		func(rows [][][]byte) ([][][]byte, error) { return p.project(rows, ec, out, args) },
		fn)
}

// Inputs implements Primitive: the input, then the type probe.
func (p *Projection) Inputs() []Primitive {
	if p.TypeProbe != nil {
		return []Primitive{p.Input, p.TypeProbe.Route}
	}
	return []Primitive{p.Input}
}

func (p *Projection) description() Description {
	cols := make([]string, len(p.Cols))
	for i, c := range p.Cols {
		if c.Expr != nil {
			cols[i] = c.Text
		} else {
			cols[i] = colRef(c.Col)
		}
	}
	return Description{OperatorType: "Projection", Other: map[string]any{"Columns": cols}}
}
