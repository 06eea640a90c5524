package engine

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// streamMapped streams in's result through two row-by-row steps, for the
// primitives that change each batch as it comes (Filter, Projection):
// fields turns the input's columns into the output's, once, before any
// row; rows turns a batch of input rows into output rows. A batch left
// empty sends only its warnings. name labels the internal error of rows
// arriving before columns.
func streamMapped(ctx context.Context, in Primitive, vc VCursor, args []any, name string,
	fields func([]*mysql.Field) ([]*mysql.Field, error), rows func([][][]byte) ([][][]byte, error),
	fn func(*Result) error) error {
	seen := false
	return in.Stream(ctx, vc, args, func(r *Result) error {
		if r.Fields != nil {
			out, err := fields(r.Fields)
			if err != nil {
				return err
			}
			seen = true
			if err := fn(&Result{Fields: out}); err != nil {
				return err
			}
		}
		var out [][][]byte
		if len(r.Rows) > 0 {
			if !seen {
				return errInternal("%s: rows before fields", name)
			}
			var err error
			if out, err = rows(r.Rows); err != nil {
				return err
			}
		}
		if len(out) == 0 {
			if r.Warnings != 0 {
				return fn(&Result{Warnings: r.Warnings})
			}
			return nil
		}
		return fn(&Result{Rows: out, Warnings: r.Warnings})
	})
}
