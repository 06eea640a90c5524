package engine

import (
	"context"
	"errors"
)

// Limit applies a LIMIT [offset,] count at the gateway to its input's rows
// (the shards were asked for offset+count rows each).
type Limit struct {
	Input Primitive
	Spec  LimitSpec
}

var _ Primitive = (*Limit)(nil)

// errStopStream ends an input's stream once Limit has all its rows.
var errStopStream = errors.New("engine: limit reached")

// Execute implements Primitive.
func (l *Limit) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	count, offset, err := l.Spec.values(args)
	if err != nil {
		return nil, err
	}
	r, err := l.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	out := *r
	out.Rows = applyLimit(r.Rows, offset, count)
	return &out, nil
}

func applyLimit(rows [][][]byte, offset, count uint64) [][][]byte {
	n := uint64(len(rows))
	if offset >= n {
		return nil
	}
	rows = rows[offset:]
	if count < uint64(len(rows)) {
		rows = rows[:count]
	}
	return rows
}

// Stream implements Primitive: it stops the input as soon as it has sent
// count rows.
func (l *Limit) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	count, offset, err := l.Spec.values(args)
	if err != nil {
		return err
	}
	sentFields := false
	err = l.Input.Stream(ctx, vc, args, func(r *Result) error {
		if r.Fields != nil && !sentFields {
			sentFields = true
			if err := fn(&Result{Fields: r.Fields}); err != nil {
				return err
			}
		}
		if len(r.Rows) == 0 {
			return nil
		}
		rows := r.Rows
		if offset > 0 {
			skip := min(offset, uint64(len(rows)))
			rows, offset = rows[skip:], offset-skip
		}
		if uint64(len(rows)) > count {
			rows = rows[:count]
		}
		count -= uint64(len(rows))
		if len(rows) > 0 {
			if err := fn(&Result{Rows: rows}); err != nil {
				return err
			}
		}
		if count == 0 {
			return errStopStream
		}
		return nil
	})
	if errors.Is(err, errStopStream) {
		return nil
	}
	return err
}

// Inputs implements Primitive.
func (l *Limit) Inputs() []Primitive { return []Primitive{l.Input} }

func (l *Limit) description() Description {
	d := Description{OperatorType: "Limit", Other: map[string]any{"Count": l.Spec.Count.String()}}
	if l.Spec.Offset != nil {
		d.Other["Offset"] = l.Spec.Offset.String()
	}
	return d
}
