package engine

import (
	"context"
	"strconv"
)

// Route sends one query to the shards its routing picks and concatenates
// their results (Vitess's engine.Route without the merge: ordering and
// limits across shards are MergeSort and Limit above it).
type Route struct {
	Routing
	// Query is the shard query. Its IN-list hole, if any, gets each shard's
	// own values.
	Query *Template
	// PushedLimit, when set, fills the query's limit hole (offset+count of
	// the original LIMIT).
	PushedLimit *LimitSpec
}

var _ Primitive = (*Route)(nil)

// queries renders the query for each destination shard.
func (r *Route) queries(d destinations, args []any) ([]string, error) {
	env, err := r.renderEnv(args)
	if err != nil {
		return nil, err
	}
	qs := make([]string, len(d.shards))
	for i := range d.shards {
		if d.vals != nil {
			env.vals = d.vals[i]
		}
		q, err := r.Query.render(&env)
		if err != nil {
			return nil, err
		}
		qs[i] = q
	}
	return qs, nil
}

// renderEnv is what the query is rendered with, before any shard's own
// IN-list values.
func (r *Route) renderEnv(args []any) (renderEnv, error) {
	env := renderEnv{args: args, vals: r.Values}
	if r.PushedLimit != nil {
		n, err := r.PushedLimit.Upper(args)
		if err != nil {
			return renderEnv{}, err
		}
		env.limit = n
	}
	return env, nil
}

// Execute implements Primitive.
func (r *Route) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	d, err := r.resolve(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	qs, err := r.queries(d, args)
	if err != nil {
		return nil, err
	}
	rs, err := vc.ExecuteMulti(ctx, r.Keyspace, d.shards, qs)
	if err != nil {
		return nil, err
	}
	return concatResults(rs), nil
}

// Stream implements Primitive: the first shard's fields once, then every
// shard's rows as they come.
func (r *Route) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	sentFields := false
	return r.streamShards(ctx, vc, args, nil, func(_ int, res *Result) error {
		if res.Fields != nil {
			if sentFields {
				if len(res.Rows) == 0 {
					return nil
				}
				res = &Result{Rows: res.Rows}
			}
			sentFields = true
		}
		return fn(res)
	})
}

// streamShards streams the routed query, shard by shard as the gateway
// delivers, for primitives that merge per-shard streams; start, if not
// nil, learns the number of shards before any result.
func (r *Route) streamShards(ctx context.Context, vc VCursor, args []any, start func(nshards int), fn func(shard int, res *Result) error) error {
	d, err := r.resolve(ctx, vc, args)
	if err != nil {
		return err
	}
	if start != nil {
		start(len(d.shards))
	}
	qs, err := r.queries(d, args)
	if err != nil {
		return err
	}
	return vc.StreamMulti(ctx, r.Keyspace, d.shards, qs, fn)
}

// Inputs implements Primitive.
func (r *Route) Inputs() []Primitive { return nil }

func (r *Route) description() Description {
	d := r.describe("Route")
	d.Other["Query"] = r.Query.String()
	if r.PushedLimit != nil {
		d.Other["PushedLimit"] = r.PushedLimit.String()
	}
	return d
}

// LimitSpec is a LIMIT's count and optional offset, literals or arguments.
type LimitSpec struct {
	Count  Value
	Offset *Value
}

// values returns count and offset.
func (l *LimitSpec) values(args []any) (count, offset uint64, err error) {
	if count, err = LimitValue(l.Count, args); err != nil {
		return 0, 0, err
	}
	if l.Offset != nil {
		if offset, err = LimitValue(*l.Offset, args); err != nil {
			return 0, 0, err
		}
	}
	return count, offset, nil
}

// Upper is the number of rows a shard must return: offset+count.
func (l *LimitSpec) Upper(args []any) (uint64, error) {
	c, o, err := l.values(args)
	if err != nil {
		return 0, err
	}
	if s := c + o; s >= c {
		return s, nil
	}
	return ^uint64(0), nil
}

func (l *LimitSpec) String() string {
	if l.Offset != nil {
		return l.Offset.String() + ", " + l.Count.String()
	}
	return l.Count.String()
}

func LimitValue(v Value, args []any) (uint64, error) {
	val, _, err := v.resolve(args)
	if err != nil {
		return 0, err
	}
	switch x := val.(type) {
	case int64:
		if x >= 0 {
			return uint64(x), nil
		}
	case uint64:
		return x, nil
	case string:
		if n, err := strconv.ParseUint(x, 10, 64); err == nil {
			return n, nil
		}
	case []byte:
		if n, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, errWrongArgs2("LIMIT")
}

// SingleShard resolves a Route that reaches exactly one shard (an
// unsharded keyspace, a targeted shard, one vindex value) to that shard
// and its query, for a caller that runs the query itself (a CALL, whose
// several results no Primitive carries).
func (r *Route) SingleShard(ctx context.Context, vc VCursor, args []any) (shard, query string, err error) {
	d, err := r.resolve(ctx, vc, args)
	if err != nil {
		return "", "", err
	}
	if len(d.shards) != 1 {
		return "", "", errInternal("route to %s reaches %d shards, want 1", r.Keyspace, len(d.shards))
	}
	qs, err := r.queries(d, args)
	if err != nil {
		return "", "", err
	}
	return d.shards[0], qs[0], nil
}
