package gateway

import (
	"context"
	"errors"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/tablet"
)

// Prepared statements end to end. A client's COM_STMT_EXECUTE whose plan
// is one Route (a single shard, or an unordered scatter: the gateway
// changes nothing in the rows) runs on each shard as that shard
// connection's own prepared statement (tablet.StreamPrepared: prepared
// once per connection, then executed with the client's arguments), and
// the shard's binary rows go to the client as they are: no decoding into
// text and encoding back, and exact FLOATs for free. The column
// definitions are the shard's own already (wire.AppendColumn). Text
// statements keep their single COM_QUERY round trip; a plan that merges,
// sorts, limits or joins keeps reading text rows, which it must decode
// anyway.

// shardPrepared is a statement's prepared form while it runs; the session
// keeps one, so an execution allocates nothing for it.
type shardPrepared struct {
	s     *session
	query string // the shard query with '?' markers
	args  []any  // its markers' arguments, in order
	// mu serialises the rows of a scatter's shards on the client
	// connection (their column definitions go through the stream's own
	// lock, before any row).
	mu    sync.Mutex
	onRow func(payload []byte) error // sp.row, bound once
}

// prepareOnShards makes vc run the plan's shard query as a prepared
// statement when the statement is a COM_STMT_EXECUTE (binary) whose plan
// is a Route with a preparable query (engine.Route.Prepared).
func (s *session) prepareOnShards(vc execCursor, plan *planner.Plan, args []any, binary bool) {
	v, ok := vc.(*vcursor)
	if !ok || !binary || plan.Type != planner.StmtSelect || s.srv.cfg.Backend.PreparedStatements < 0 {
		return
	}
	route, ok := plan.Root.(*engine.Route)
	if !ok {
		return
	}
	pq := route.Prepared()
	if pq == nil {
		return
	}
	sp := &s.shardPrep
	if sp.onRow == nil {
		sp.s, sp.onRow = s, sp.row
	}
	a, err := pq.Args(sp.args[:0], args)
	if err != nil {
		return // the text path reports it
	}
	sp.query, sp.args = pq.Text, a
	v.prepared = sp
}

// row forwards one shard row to the client.
func (sp *shardPrepared) row(payload []byte) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.s.stmt.rows++
	return sp.s.w.WriteRowPayload(payload)
}

// streamPrepared runs the statement on conn as its prepared statement.
// One the shard cannot prepare runs as text (query, already rendered),
// its rows converted as any text rows are.
func (vc *vcursor) streamPrepared(ctx context.Context, conn *tablet.Conn, query string, onFields func([]*mysql.Field) error, onRow func([][]byte) error) (*tablet.Result, error) {
	sp := vc.prepared
	comments := &vc.s.stmt.comments
	res, err := conn.StreamPrepared(ctx, comments.around(sp.query), sp.args, onFields, sp.onRow)
	if !errors.Is(err, tablet.ErrNotPreparable) {
		return res, err
	}
	return conn.Stream(ctx, comments.around(query), onFields, func(row [][]byte) error {
		sp.mu.Lock()
		defer sp.mu.Unlock()
		return onRow(row)
	})
}
