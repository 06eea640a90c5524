package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
)

// Rows pass through. A text-protocol SELECT whose plan is a bare Route
// (one shard, or an unordered scatter: the result is the shards' rows
// concatenated) answers with the shards' own packets: the first shard's
// column definitions as it sent them, then every shard's row packets
// unparsed, each re-numbered in the client's sequence by the writer. The
// gateway neither splits rows into values nor encodes them again.
//
// What inspects rows still sees them: the statement's row count (metrics,
// the query log) counts forwarded rows; the statement's context (its time
// limit, KILL QUERY, a client gone) arms the shard query as before; a
// shard error part way ends the result with that error. Plans that
// change rows (MergeSort, Limit, Aggregate, Join, ...), a statement whose
// rows the gateway holds (buffering: everything but a SELECT), FLOAT-exact
// reads (exact_float.go) and the binary protocol take the decoding path.

// rowForwarder is a cursor that can run a Route's shard queries with
// their results forwarded: the session's vcursor, or a benchmark's fake.
type rowForwarder interface {
	// forwardMulti runs queries[i] on shards[i] of keyspace (in parallel
	// when more than one) and hands each shard's column definitions and
	// row payloads to fw; calls to fw are serialised.
	forwardMulti(ctx context.Context, keyspace string, shards, queries []string, fw *rowForward) error
	// canForward tells whether this statement's results may pass through.
	canForward() bool
}

var _ rowForwarder = (*vcursor)(nil)

// forwarding returns the Route and the forwarder a SELECT's rows pass
// through, or nil if the plan or the protocol needs the decoding path.
func forwarding(plan *planner.Plan, vc execCursor, binary bool) (*engine.Route, rowForwarder) {
	if binary {
		return nil, nil
	}
	route, ok := plan.Root.(*engine.Route)
	if !ok {
		return nil, nil
	}
	fwd, ok := vc.(rowForwarder)
	if !ok || !fwd.canForward() {
		return nil, nil
	}
	return route, fwd
}

// forwardRoute runs route with its shards' results forwarded to the
// client; started says whether column definitions were written.
func (s *session) forwardRoute(ctx context.Context, route *engine.Route, fwd rowForwarder, vc execCursor, args []any, more bool) (started bool, err error) {
	fw := &s.forward
	shards, queries, err := route.ShardQueries(ctx, vc, args, fw.shards[:0], fw.queries[:0])
	if err != nil {
		return false, err
	}
	if fw.onRow == nil {
		fw.s = s
		fw.onFields, fw.onRow = fw.fields, fw.row
	}
	fw.started, fw.more = false, more
	err = fwd.forwardMulti(ctx, route.Keyspace, shards, queries, fw)
	fw.queries[0] = "" // let go of the statement's query
	return fw.started, err
}

// rowForward is forwardRoute's state for one statement. The session keeps
// one with its callbacks bound once, so forwarding allocates nothing.
type rowForward struct {
	s             *session
	started, more bool
	onFields      func([]*mysql.Field) error // fw.fields, bound once
	onRow         func(payload []byte) error // fw.row, bound once
	// shards and queries hold a one-shard route's destination (ShardQueries
	// appends to them), so a point select allocates no slices.
	shards, queries [1]string
}

// fields writes the first shard's column definitions; the other shards'
// are the same columns.
func (fw *rowForward) fields(fields []*mysql.Field) error {
	if fw.started {
		return nil
	}
	fw.started = true
	return fw.s.w.WriteFields(fields, fw.s.status(fw.more))
}

// row forwards one row packet's payload.
func (fw *rowForward) row(payload []byte) error {
	fw.s.stmt.rows++
	return fw.s.w.WriteRowPayload(payload)
}

// canForward: a statement that holds its rows (anything but a SELECT)
// must count them against its budget, and FLOAT-exact reads arrive as
// binary rows turned into text.
func (vc *vcursor) canForward() bool { return !vc.buffering && !vc.exactFloats }

func (vc *vcursor) forwardMulti(ctx context.Context, keyspace string, shards, queries []string, fw *rowForward) error {
	done, err := vc.txStatement(ctx, keyspace, shards)
	if err != nil {
		return err
	}
	if len(shards) == 1 {
		return done(vc.forwardOne(ctx, keyspace, shards[0], queries[0], fw.onFields, fw.onRow))
	}
	return done(vc.forwardFanOut(ctx, keyspace, shards, queries, fw))
}

// forwardFanOut is forwardMulti over several shards, one goroutine each,
// with the callbacks serialised (the client's writer is not shared).
func (vc *vcursor) forwardFanOut(ctx context.Context, keyspace string, shards, queries []string, fw *rowForward) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex // serialises fw
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	onFields := func(fields []*mysql.Field) error {
		mu.Lock()
		defer mu.Unlock()
		return fw.onFields(fields)
	}
	onRow := func(payload []byte) error {
		mu.Lock()
		defer mu.Unlock()
		return fw.onRow(payload)
	}
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := vc.forwardOne(ctx, keyspace, shards[i], queries[i], onFields, onRow); err != nil {
				// The first failure is the cause; the others see its cancellation.
				errOnce.Do(func() { firstErr = err })
				cancel()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// forwardOne runs one shard's query with its rows forwarded, on the
// connection streamOne would use.
func (vc *vcursor) forwardOne(ctx context.Context, keyspace, shard, query string, onFields func([]*mysql.Field) error, onRow func([]byte) error) error {
	start := time.Now()
	var spare *shardConn
	if st := vc.one; st != nil && st.busy.CompareAndSwap(false, true) {
		defer st.busy.Store(false)
		spare = &st.conn
	}
	sc, tc, pooled, err := vc.conn(ctx, keyspace, shard, spare)
	if err != nil {
		return err
	}
	defer releasePooled(sc, pooled)
	defer tc.countSince(start)
	res, err := sc.conn.StreamRaw(ctx, vc.s.stmt.comments.around(query), onFields, onRow)
	if err != nil {
		return err
	}
	if res.Warnings > 0 {
		vc.collectWarnings(ctx, sc.conn)
	}
	return nil
}
