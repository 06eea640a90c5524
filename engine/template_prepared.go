package engine

import "strings"

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
