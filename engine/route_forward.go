package engine

import "context"

// ShardQueries resolves the route now and renders its query for each
// shard it reaches — exactly what Stream would send — for a caller that
// runs the queries itself and hands their results to the client as the
// shards sent them (the gateway's row pass-through). A Route changes
// nothing in its shards' results but concatenates them, so their rows,
// forwarded shard after shard with the first shard's column definitions,
// are its result.
func (r *Route) ShardQueries(ctx context.Context, vc VCursor, args []any) (shards, queries []string, err error) {
	d, err := r.resolve(ctx, vc, args)
	if err != nil {
		return nil, nil, err
	}
	qs, err := r.queries(d, args)
	if err != nil {
		return nil, nil, err
	}
	return d.shards, qs, nil
}
