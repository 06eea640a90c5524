package engine

import "context"

// DML is an UPDATE or DELETE routed like a SELECT; the shards' affected
// row counts are added up.
type DML struct {
	Route
	Op string // "Update" or "Delete"
}

var _ Primitive = (*DML)(nil)

// Stream implements Primitive.
func (d *DML) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := d.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

func (d *DML) description() Description {
	desc := d.describe(d.Op)
	desc.Other["Query"] = d.Query.String()
	return desc
}
