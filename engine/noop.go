package engine

import "context"

// Noop answers OK without reaching a shard, with a warning saying why
// when Code is set: statements the gateway accepts for compatibility and
// has nothing to do for (CREATE DATABASE IF NOT EXISTS of a keyspace that
// exists, LOCK TABLES, which it does not enforce).
type Noop struct {
	// Statement names what was answered (VEXPLAIN).
	Statement string
	// Code and Message are the warning attached; Code 0 attaches none.
	Code    uint16
	Message string
}

var _ Primitive = (*Noop)(nil)

// Execute implements Primitive.
func (n *Noop) Execute(_ context.Context, vc VCursor, _ []any) (*Result, error) {
	if n.Code != 0 {
		vc.AddWarning(n.Code, n.Message)
	}
	return &Result{}, nil
}

// Stream implements Primitive.
func (n *Noop) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := n.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (n *Noop) Inputs() []Primitive { return nil }

func (n *Noop) description() Description {
	return Description{OperatorType: "Noop", Other: map[string]any{"Statement": n.Statement, "Warning": n.Message}}
}
