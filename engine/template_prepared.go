package engine

import (
	"context"
	"strings"
)

// PreparedQuery is a shard query in the form a shard prepares once and
// then executes with arguments: its text with a '?' marker for each
// argument hole, and which of the statement's arguments each marker
// takes. The gateway runs a client's COM_STMT_EXECUTE this way, so the
// shard parses the statement once per connection (as it does for a
// direct client) and its binary rows can reach the client as they are.
type PreparedQuery struct {
	Text   string
	Params []int // Params[i]: the index in args of marker i's value
}

// preparedForm builds t's prepared form, or nil when t has a hole an
// argument cannot fill on the shard: a per-shard IN list (its length
// varies by shard) or a pushed-down limit (offset+count, computed).
func preparedForm(t *Template) *PreparedQuery {
	p := &PreparedQuery{Params: make([]int, 0, len(t.holes))}
	var sb strings.Builder
	sb.Grow(t.static + len(t.holes))
	for i, h := range t.holes {
		if h.kind != holeArg {
			return nil
		}
		sb.WriteString(t.chunks[i])
		sb.WriteByte('?')
		p.Params = append(p.Params, h.n)
	}
	sb.WriteString(t.chunks[len(t.chunks)-1])
	p.Text = sb.String()
	return p
}

// Prepared returns the route's shard query as a prepared statement, or
// nil when the route's query cannot run as one (see preparedForm) or it
// pushes a limit down.
func (r *Route) Prepared() *PreparedQuery {
	if r.PushedLimit != nil || r.Query == nil {
		return nil
	}
	return r.Query.prepared
}

// Args appends to dst the arguments of the prepared query's markers, in
// marker order, taken from the statement's args.
func (p *PreparedQuery) Args(dst, args []any) ([]any, error) {
	for _, n := range p.Params {
		if n >= len(args) {
			return nil, errWrongArgs(n+1, len(args))
		}
		dst = append(dst, args[n])
	}
	return dst, nil
}

// Shards appends to dst the shards the route reaches with args, without
// rendering any query: a route that runs prepared sends the same
// prepared text to each of them. A route that reaches one shard by
// construction allocates nothing here (see ShardQueries).
func (r *Route) Shards(ctx context.Context, vc VCursor, args []any, dst []string) ([]string, error) {
	shard, ok, err := r.oneShard(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	if ok {
		return append(dst, shard), nil
	}
	d, err := r.resolve(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	return append(dst, d.shards...), nil
}

// PreparedText renders the shard query of a route whose Prepared form is
// not nil as text with args filled in: what a shard that cannot prepare
// the statement runs instead. Every shard's text is the same (the
// prepared form has no per-shard hole).
func (r *Route) PreparedText(args []any) (string, error) {
	env, err := r.renderEnv(args)
	if err != nil {
		return "", err
	}
	return r.Query.render(&env)
}
