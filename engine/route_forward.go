package engine

import "context"

// ShardQueries resolves the route now and appends to shards and queries
// each shard it reaches and the query rendered for it — exactly what
// Stream would send — for a caller that runs the queries itself and
// hands their results to the client as the shards sent them (the
// gateway's row pass-through). A Route changes nothing in its shards'
// results but concatenates them, so their rows, forwarded shard after
// shard with the first shard's column definitions, are its result.
//
// A route that reaches one shard by construction (a targeted shard, an
// unsharded keyspace, one vindex value) allocates nothing but its query:
// a point select's fast path.
func (r *Route) ShardQueries(ctx context.Context, vc VCursor, args []any, shards, queries []string) ([]string, []string, error) {
	shard, ok, err := r.oneShard(ctx, vc, args)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		env, err := r.renderEnv(args)
		if err != nil {
			return nil, nil, err
		}
		q, err := r.Query.render(&env)
		if err != nil {
			return nil, nil, err
		}
		return append(shards, shard), append(queries, q), nil
	}
	d, err := r.resolve(ctx, vc, args)
	if err != nil {
		return nil, nil, err
	}
	qs, err := r.queries(d, args)
	if err != nil {
		return nil, nil, err
	}
	return append(shards, d.shards...), append(queries, qs...), nil
}

// oneShard is resolve for the routings that reach exactly one shard
// whatever the serving graph holds, without resolve's slices; ok false
// means resolve must decide (more shards, a lookup, a value that does not
// map, an unsharded keyspace that is not one shard: its error).
func (r *Routing) oneShard(ctx context.Context, vc VCursor, args []any) (shard string, ok bool, err error) {
	switch {
	case r.Opcode == ByDestination:
		return r.Shard, true, nil
	case r.Opcode == Unsharded:
		ss, err := vc.Shards(ctx, r.Keyspace)
		if err != nil || len(ss) != 1 {
			return "", false, err
		}
		return ss[0].Name, true, nil
	case r.Opcode == EqualUnique && r.Lookup == nil:
		ss, err := vc.Shards(ctx, r.Keyspace)
		if err != nil || len(ss) == 0 {
			return "", false, err
		}
		i, ok, err := r.equalUniqueShard(ss, args)
		if err != nil || !ok {
			return "", false, err
		}
		return ss[i].Name, true, nil
	}
	return "", false, nil
}
