package gateway

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/tablet"
)

// Rows pass through. A SELECT whose plan is a bare Route (one shard, or
// an unordered scatter: the result is the shards' rows concatenated)
// answers with the shards' own packets: the first shard's column
// definitions as it sent them, then every shard's row packets unparsed,
// each re-numbered in the client's sequence by the writer. The gateway
// neither splits rows into values nor encodes them again. Text rows
// (COM_QUERY) and binary rows (a COM_STMT_EXECUTE the shards run as their
// own prepared statements, prepare_shard.go) take the same forwarder.
//
// What inspects rows still sees them: the statement's row count (metrics,
// the query log) counts forwarded rows; the statement's context (its time
// limit, KILL QUERY, a client gone) arms the shard query as before; a
// shard error part way ends the result with that error. Plans that
// change rows (MergeSort, Limit, Aggregate, Join, ...), a statement whose
// rows the gateway holds (buffering: everything but a SELECT) and
// FLOAT-exact text reads (exact_float.go) take the decoding path.

// rowForwarder is a cursor that can run a Route's shard queries with
// their results forwarded: the session's vcursor, or a benchmark's fake.
type rowForwarder interface {
	// forwardMulti runs the statement on shards of keyspace (in parallel
	// when more than one) and hands each shard's column definitions and
	// rows to fw's callbacks: queries[i] on shards[i] as text, or, when
	// fw.prepared is set, fw.prepared as each shard connection's
	// prepared statement (queries is then nil).
	forwardMulti(ctx context.Context, keyspace string, shards, queries []string, fw *rowForward) error
	// canForward tells whether this statement's results may pass
	// through, as text rows or as a prepared statement's binary rows.
	canForward(prepared bool) bool
}

var _ rowForwarder = (*vcursor)(nil)

// forwarding returns the Route and the forwarder a SELECT's rows pass
// through, and the Route's prepared form when they are a COM_STMT_EXECUTE's
// binary rows; nil if the plan or the protocol needs the decoding path.
func (s *session) forwarding(plan *planner.Plan, vc execCursor, binary bool) (*engine.Route, rowForwarder, *engine.PreparedQuery) {
	route, ok := plan.Root.(*engine.Route)
	if !ok {
		return nil, nil, nil
	}
	fwd, ok := vc.(rowForwarder)
	if !ok {
		return nil, nil, nil
	}
	if !binary {
		if !fwd.canForward(false) {
			return nil, nil, nil
		}
		return route, fwd, nil
	}
	pq := s.shardPrepared(plan, route) // prepare_shard.go
	if pq == nil || !fwd.canForward(true) {
		return nil, nil, nil
	}
	return route, fwd, pq
}

// forwardRoute runs route with its shards' results forwarded to the
// client (as the shards' prepared statement pq when not nil); started
// says whether column definitions were written.
func (s *session) forwardRoute(ctx context.Context, route *engine.Route, pq *engine.PreparedQuery, fwd rowForwarder, vc execCursor, args []any, more bool) (started bool, err error) {
	fw := &s.forward
	fw.bind(s)
	fw.started, fw.more = false, more
	var shards, queries []string
	if pq != nil {
		fw.args, err = pq.Args(fw.args[:0], args)
		if err == nil {
			fw.prepared, fw.route, fw.stmtArgs = pq, route, args
			shards, err = route.Shards(ctx, vc, args, fw.shards[:0])
		}
	} else {
		shards, queries, err = route.ShardQueries(ctx, vc, args, fw.shards[:0], fw.queries[:0])
	}
	if err == nil {
		err = fwd.forwardMulti(ctx, route.Keyspace, shards, queries, fw)
	}
	fw.release()
	return fw.started, err
}

// rowForward is forwardRoute's state for one statement. The session keeps
// one with its callbacks bound once, so forwarding allocates nothing.
type rowForward struct {
	s             *session
	started, more bool
	// prepared, when set, is the statement the shards run prepared, with
	// args its markers' arguments; route and stmtArgs render its text for
	// a shard connection that cannot prepare it (fallbackText).
	prepared *engine.PreparedQuery
	args     []any
	route    *engine.Route
	stmtArgs []any
	text     string
	// fields are the column definitions written, for text rows that
	// reach a binary-protocol client (the fallback) converted.
	fields []*mysql.Field
	// mu serialises the callbacks: a scatter's shards call them from
	// their own goroutines, and the client's writer is not shared.
	mu        sync.Mutex
	onFields  func([]*mysql.Field) error // fw.writeFields, bound once
	onRow     func(payload []byte) error // fw.row, bound once
	onTextRow func(row [][]byte) error   // fw.textRow, bound once
	// shards and queries hold a one-shard route's destination (ShardQueries
	// appends to them), so a point select allocates no slices.
	shards, queries [1]string
}

func (fw *rowForward) bind(s *session) {
	if fw.onRow == nil {
		fw.s = s
		fw.onFields, fw.onRow, fw.onTextRow = fw.writeFields, fw.row, fw.textRow
	}
}

// release lets go of the statement's values.
func (fw *rowForward) release() {
	fw.queries[0], fw.text = "", ""
	clear(fw.args)
	fw.args = fw.args[:0]
	fw.prepared, fw.route, fw.stmtArgs, fw.fields = nil, nil, nil, nil
}

// writeFields writes the first shard's column definitions; the other
// shards' are the same columns.
func (fw *rowForward) writeFields(fields []*mysql.Field) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.started {
		return nil
	}
	fw.started, fw.fields = true, fields
	return fw.s.w.WriteFields(fields, fw.s.status(fw.more))
}

// row forwards one row packet's payload, text or binary as the client
// asked.
func (fw *rowForward) row(payload []byte) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.s.stmt.rows++
	return fw.s.w.WriteRowPayload(payload)
}

// textRow writes a row a shard sent as text to a binary-protocol client:
// the prepared statement's fallback on a connection that could not
// prepare it.
func (fw *rowForward) textRow(row [][]byte) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.s.stmt.rows++
	return fw.s.w.WriteBinaryRow(fw.fields, row)
}

// fallbackText is the prepared statement's shard query as text, rendered
// once per statement.
func (fw *rowForward) fallbackText() (string, error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.text == "" {
		text, err := fw.route.PreparedText(fw.stmtArgs)
		if err != nil {
			return "", err
		}
		fw.text = text
	}
	return fw.text, nil
}

// canForward: a statement that holds its rows (anything but a SELECT)
// must count them against its budget, and FLOAT-exact text reads arrive
// as binary rows turned into text; a prepared statement's binary rows are
// exact as they are.
func (vc *vcursor) canForward(prepared bool) bool {
	return !vc.buffering && (prepared || !vc.exactFloats)
}

func (vc *vcursor) forwardMulti(ctx context.Context, keyspace string, shards, queries []string, fw *rowForward) error {
	done, err := vc.txStatement(ctx, keyspace, shards)
	if err != nil {
		return err
	}
	if len(shards) == 1 {
		return done(vc.forwardOne(ctx, keyspace, shards[0], queryAt(queries, 0), fw))
	}
	return done(vc.forwardFanOut(ctx, keyspace, shards, queries, fw))
}

// queryAt is queries[i], or "" when the shards run a prepared statement.
func queryAt(queries []string, i int) string {
	if queries == nil {
		return ""
	}
	return queries[i]
}

// forwardFanOut is forwardMulti over several shards, one goroutine each
// (fw's callbacks serialise themselves).
func (vc *vcursor) forwardFanOut(ctx context.Context, keyspace string, shards, queries []string, fw *rowForward) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := vc.forwardOne(ctx, keyspace, shards[i], queryAt(queries, i), fw); err != nil {
				// The first failure is the cause; the others see its cancellation.
				errOnce.Do(func() { firstErr = err })
				cancel()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// forwardOne runs one shard's query (or fw's prepared statement) with its
// rows forwarded, on the connection streamOne would use.
func (vc *vcursor) forwardOne(ctx context.Context, keyspace, shard, query string, fw *rowForward) error {
	var spare *shardConn
	if st := vc.one; st != nil && st.busy.CompareAndSwap(false, true) {
		defer st.busy.Store(false)
		spare = &st.conn
	}
	pooled, err := vc.forwardOnce(ctx, keyspace, shard, query, fw, spare)
	if vc.retriesStale(err, pooled) {
		_, err = vc.forwardOnce(ctx, keyspace, shard, query, fw, spare)
	}
	return err
}

// forwardOnce is forwardOne on one connection; pooled says it took (or
// failed to take) a pooled connection, not the session's transaction's.
func (vc *vcursor) forwardOnce(ctx context.Context, keyspace, shard, query string, fw *rowForward, spare *shardConn) (pooled bool, err error) {
	start := time.Now()
	sc, tc, pooled, err := vc.conn(ctx, keyspace, shard, spare)
	if err != nil {
		return vc.tx() == nil, err // settings applied on a pooled connection
	}
	defer releasePooled(sc, pooled)
	defer tc.countSince(start)
	comments := &vc.s.stmt.comments
	var res *tablet.Result
	if fw.prepared == nil {
		res, err = sc.conn.StreamRaw(ctx, comments.around(query), fw.onFields, fw.onRow)
	} else {
		res, err = sc.conn.StreamPrepared(ctx, comments.around(fw.prepared.Text), fw.args, fw.onFields, fw.onRow)
		if errors.Is(err, tablet.ErrNotPreparable) {
			// Nothing ran: the connection runs the statement as text
			// (remembered per connection), its rows converted.
			var text string
			if text, err = fw.fallbackText(); err == nil {
				res, err = vc.stream(ctx, sc.conn, text, fw.onFields, fw.onTextRow)
			}
		}
	}
	if err != nil {
		return pooled, err
	}
	if res.Warnings > 0 {
		vc.collectWarnings(ctx, sc.conn)
	}
	return pooled, nil
}
