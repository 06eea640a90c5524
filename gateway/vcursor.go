package gateway

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// vcursor is the planner's window on the session and the tablets for one
// statement. Its methods may be called from several goroutines when a plan
// fans out; mu guards the warnings they collect.
type vcursor struct {
	s *session
	r *routing
	// borrowRows: every row streamed is written to the client before the
	// callback returns (the plan's root is a Route), so it need not be
	// copied out of the shard connection's read buffer.
	borrowRows bool
	// exactFloats: the shard queries run in the binary protocol, so FLOAT
	// values reach a binary-protocol client exactly (exact_float.go).
	exactFloats bool

	mu       sync.Mutex
	warnings []warning

	// write is set for INSERT/UPDATE/DELETE/REPLACE: an autocommit one
	// that reaches several shards runs as a transaction of the session's
	// transaction_mode (see txStatement).
	write bool
	// read is set for SELECT: a shard it reaches in a transaction is not
	// marked as written.
	read bool
	// locking is set for a SELECT ... FOR UPDATE / LOCK IN SHARE MODE:
	// it never reads from a read switch's shards (read_switch.go).
	locking bool
	// implicit is that transaction while the statement runs.
	implicit *transaction
	// stmtSP protects a write statement inside the session's open
	// transaction (transaction_statement.go); zero otherwise.
	stmtSP statementSavepoint
	// spanning is set while a call reaches several shards: a shard
	// joining a transaction then begins READ COMMITTED.
	spanning bool
	// budget counts the rows the statement buffers (row_limit.go);
	// buffering says the plan runs with Execute, so even streamed shard
	// rows end up held in memory.
	budget    *rowBudget
	buffering bool

	// ownBudget and one are storage the session's reused cursor keeps
	// from one statement to the next (see cursor), so a statement's
	// cursor, its budget and a single-shard stream allocate nothing; one
	// is nil in other cursors.
	ownBudget rowBudget
	one       *oneShardStream
}

var _ engine.VCursor = (*vcursor)(nil)

func (s *session) newVCursor(r *routing) *vcursor {
	return &vcursor{s: s, r: r, budget: newRowBudget(s.srv.cfg.MaxBufferedRows)}
}

// execCursor is the VCursor a statement runs with and hands its warnings
// to the session when done.
type execCursor interface {
	engine.VCursor
	flushWarnings()
}

// cursor is plan's execCursor: the session's, or the fake a benchmark
// installs (fakeCursor).
func (s *session) cursor(r *routing, plan *planner.Plan) execCursor {
	if s.fakeCursor != nil {
		return s.fakeCursor(r)
	}
	// The session runs one statement at a time and no goroutine of a
	// statement outlives it (fan-outs wait for theirs), so the cursor's
	// memory is reused.
	vc := &s.vc
	*vc = vcursor{s: s, r: r, one: &s.oneStream}
	vc.ownBudget.reset(s.srv.cfg.MaxBufferedRows)
	vc.budget = &vc.ownBudget
	// A Route hands each row to the session's writer and keeps none;
	// parents that merge, sort or aggregate keep rows and need copies.
	_, vc.borrowRows = plan.Root.(*engine.Route)
	vc.read = plan.Type == planner.StmtSelect
	vc.locking = plan.LockingRead
	vc.exactFloats = s.exactFloats && plan.Type == planner.StmtSelect
	vc.write = isWrite(plan.Type)
	// Execute (everything but a SELECT) holds its shard rows whole.
	vc.buffering = plan.Type != planner.StmtSelect
	return vc
}

// Shards lists the serving shards of a keyspace for the session's tablet
// type: for a read outside transactions, the read switch's shards if the
// session's draw picks them (read_switch.go).
func (vc *vcursor) Shards(ctx context.Context, keyspace string) ([]engine.ShardRange, error) {
	draw := vc.readDraw()
	// A resharding write switch holds the keyspace before shards are
	// picked (buffer_reroute.go); after it, they come from the routing
	// that has the switch.
	if waited, err := vc.holdForReroute(ctx, keyspace, draw); err != nil {
		return nil, err
	} else if waited {
		return vc.s.srv.topo.current.Load().shardRanges(keyspace, vc.s.tabletType, draw)
	}
	return vc.r.shardRanges(keyspace, vc.s.tabletType, draw)
}

// ExecuteMulti runs queries[i] on shards[i]; several shards run in parallel,
// one runs on the calling goroutine.
func (vc *vcursor) ExecuteMulti(ctx context.Context, keyspace string, shards []string, queries []string) (_ []*engine.Result, err error) {
	done, err := vc.txStatement(ctx, keyspace, shards)
	if err != nil {
		return nil, err
	}
	defer func() { err = done(err) }()
	results := make([]*engine.Result, len(shards))
	if len(shards) == 1 {
		res, err := vc.executeOne(ctx, keyspace, shards[0], queries[0])
		results[0] = res
		return results, err
	}
	if len(shards) == 0 {
		return results, nil
	}
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	last := len(shards) - 1
	for i := range shards[:last] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = vc.executeOne(ctx, keyspace, shards[i], queries[i])
		}()
	}
	// The last shard on this goroutine: one goroutine fewer to start and
	// to grow a stack for.
	results[last], errs[last] = vc.executeOne(ctx, keyspace, shards[last], queries[last])
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

// StreamMulti streams queries[i] from shards[i]. Calls to fn are serialised.
// The rows handed to fn are the callee's to keep, except when the plan's
// root is a Route (borrowRows): then they are valid only during the call.
func (vc *vcursor) StreamMulti(ctx context.Context, keyspace string, shards []string, queries []string, fn func(int, *engine.Result) error) error {
	done, err := vc.txStatement(ctx, keyspace, shards)
	if err != nil {
		return err
	}
	if len(shards) == 1 {
		return done(vc.streamOne(ctx, keyspace, 0, shards[0], queries[0], fn))
	}
	return done(vc.streamFanOut(ctx, keyspace, shards, queries, fn))
}

// streamFanOut is StreamMulti over several shards, one goroutine each
// (apart so that the one-shard path does not allocate what these
// goroutines share).
func (vc *vcursor) streamFanOut(ctx context.Context, keyspace string, shards []string, queries []string, fn func(int, *engine.Result) error) error {
	if len(shards) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex // serialises fn
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	read := func(i int) {
		err := vc.streamOne(ctx, keyspace, i, shards[i], queries[i], func(i int, r *engine.Result) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(i, r)
		})
		if err != nil {
			// The first failure is the cause; the others see its cancellation.
			errOnce.Do(func() { firstErr = err })
			cancel()
		}
	}
	last := len(shards) - 1
	for i := range shards[:last] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			read(i)
		}()
	}
	// The last shard on this goroutine (as ExecuteMulti).
	read(last)
	wg.Wait()
	return firstErr
}

// conn finds the connection a statement on the shard runs on: the
// transaction's (joining the shard to it on first use), or a pooled one
// (pooled true) that the caller releases with releasePooled. tc are the
// counters of the tablet the query goes to.
//
// A statement for a primary goes through the gateway's buffer: while the
// shard has no serving primary, or is held, it waits (buffer.go). A
// transaction already begun on the shard goes on on its connection, even
// under a hold (the hold waits for it to finish), unless that primary is
// no longer the shard's: then it is rolled back (errTxPrimaryChanged).
// Replica reads are never held.
func (vc *vcursor) conn(ctx context.Context, keyspace, shard string, spare *shardConn) (sc *shardConn, tc *tabletCounters, pooled bool, err error) {
	s := vc.s
	typ := s.tabletType
	s.stmt.shardQueries.Add(1)
	if typ != topo.TabletPrimary {
		pool, err := s.tabletPool(vc.r, keyspace, shard)
		if err != nil {
			return nil, nil, false, err
		}
		tc = vc.r.counters[pool]
		sc, err = acquireInto(ctx, spare, pool, &s.settings)
		return sc, tc, err == nil, err
	}
	key := shardKey{keyspace, shard}
	tx := vc.tx()
	var pool *tablet.Pool
	joined := txConn(tx, key)
	if joined != nil {
		if s.srv.topo.current.Load().primaryPool(keyspace, shard) != joined.pool {
			return nil, nil, false, errTxPrimaryChanged(key)
		}
		pool = joined.pool
	} else {
		var waited time.Duration
		var passing *atomic.Int64
		pool, passing, waited, err = s.srv.buffer.primary(ctx, vc.r, s.srv.topo.current.Load, keyspace, shard)
		if waited > 0 {
			s.stmt.buffered.Add(int64(waited))
		}
		if err != nil {
			return nil, nil, false, err
		}
		// Passing until the connection is taken (and counted in use).
		defer passing.Add(-1)
		if rulesChanged(vc.r, s.srv.topo.current.Load()) {
			return nil, nil, false, errRoutingRulesChanged()
		}
	}
	if tc = vc.r.counters[pool]; tc == nil {
		// Released by the buffer onto a newer routing.
		tc = s.srv.topo.current.Load().counters[pool]
	}
	if tx != nil && (joined != nil || !vc.read || vc.locking || !tx.readsOutside(vc.spanning)) {
		sc, err := tx.join(ctx, key, pool, &s.settings, vc.spanning, !vc.read)
		return sc, tc, false, err
	}
	sc, err = acquireInto(ctx, spare, pool, &s.settings)
	return sc, tc, err == nil, err
}

// txConn is tx's connection to the shard, nil if tx is nil or has not
// begun there.
func txConn(tx *transaction, k shardKey) *shardConn {
	if tx == nil {
		return nil
	}
	return tx.joinedConn(k)
}

// releasePooled releases a connection conn returned as pooled.
func releasePooled(sc *shardConn, pooled bool) {
	if pooled {
		sc.release(context.Background())
	}
}

// tx is the transaction the statement runs in, if any.
func (vc *vcursor) tx() *transaction {
	if vc.implicit != nil {
		return vc.implicit
	}
	return vc.s.tx
}

// txStatement applies the transaction rules before a call reaches shards:
// transaction_mode single refuses a second shard (before anything runs,
// so the transaction goes on); an autocommit write reaching several
// shards runs in its own transaction of the session's mode, so a failure
// on one shard leaves nothing anywhere (twopc commits atomically, multi
// shard by shard); inside an open transaction, a write's statement
// savepoint is armed (transaction_statement.go). The returned func ends
// the statement's own transaction: commit, or roll back if err is not nil.
func (vc *vcursor) txStatement(ctx context.Context, keyspace string, shards []string) (func(error) error, error) {
	s := vc.s
	vc.spanning = len(shards) > 1
	none := func(err error) error { return err }
	if s.tabletType != topo.TabletPrimary {
		return none, nil
	}
	if tx := vc.tx(); tx != nil {
		if tx.mode == modeSingle {
			if have, next, span := tx.wouldSpan(keyspace, shards); span {
				return nil, errSingleSpan(have, next)
			}
		}
		vc.stmtSP.arm(shards)
		return none, nil
	}
	if !vc.write || len(shards) < 2 {
		return none, nil
	}
	if s.txMode == modeSingle {
		return nil, errSingleSpan(shardKey{keyspace, shards[0]}, shardKey{keyspace, shards[1]})
	}
	vc.implicit = s.srv.newTx(s.txMode, "")
	return func(err error) error {
		tx := vc.implicit
		vc.implicit = nil
		if err != nil {
			tx.rollback(ctx)
			return err
		}
		return tx.commit(ctx)
	}, nil
}

func (vc *vcursor) executeOne(ctx context.Context, keyspace, shard, query string) (*engine.Result, error) {
	res, pooled, err := vc.executeOnce(ctx, keyspace, shard, query)
	if vc.retriesStale(err, pooled) {
		res, _, err = vc.executeOnce(ctx, keyspace, shard, query)
	}
	return res, err
}

// executeOnce is executeOne on one connection; pooled says it took (or
// failed to take) a pooled connection, not the session's transaction's.
func (vc *vcursor) executeOnce(ctx context.Context, keyspace, shard, query string) (_ *engine.Result, pooled bool, err error) {
	start := time.Now()
	sc, tc, pooled, err := vc.conn(ctx, keyspace, shard, nil)
	if err != nil {
		return nil, vc.tx() == nil, err // settings applied on a pooled connection
	}
	defer releasePooled(sc, pooled)
	defer tc.countSince(start)
	// Streamed and counted, so a result over the row budget stops early
	// instead of being read whole.
	var rows [][][]byte
	onRow := func(row [][]byte) error {
		if err := vc.budget.take(1); err != nil {
			return err
		}
		rows = append(rows, copyRow(row))
		return nil
	}
	var res *tablet.Result
	if ahead := vc.stmtSP.savepointAhead(shardKey{keyspace, shard}); ahead != nil {
		res, err = sc.conn.StreamAfter(ctx, ahead, vc.s.stmt.comments.around(query), nil, onRow)
	} else {
		res, err = vc.stream(ctx, sc.conn, query, nil, onRow)
	}
	if err != nil {
		return nil, pooled, err
	}
	if res.Warnings > 0 {
		vc.collectWarnings(ctx, sc.conn)
	}
	return &engine.Result{
		Fields:       res.Fields,
		Rows:         rows,
		RowsAffected: res.RowsAffected,
		InsertID:     res.InsertID,
		Warnings:     res.Warnings,
		RowsMatched:  res.RowsMatched,
		MatchedKnown: res.MatchedKnown,
	}, pooled, nil
}

func (vc *vcursor) streamOne(ctx context.Context, keyspace string, idx int, shard, query string, fn func(int, *engine.Result) error) error {
	st := vc.one
	if st == nil || !st.busy.CompareAndSwap(false, true) {
		// Another stream of this statement is reading (a join's inner
		// side inside its outer's rows, or a fan-out): state of its own.
		st = new(oneShardStream)
	} else {
		defer st.busy.Store(false)
	}
	pooled, err := vc.streamOnce(ctx, keyspace, idx, shard, query, fn, st)
	if vc.retriesStale(err, pooled) {
		_, err = vc.streamOnce(ctx, keyspace, idx, shard, query, fn, st)
	}
	return err
}

// streamOnce is streamOne on one connection; pooled says it took (or
// failed to take) a pooled connection, not the session's transaction's.
func (vc *vcursor) streamOnce(ctx context.Context, keyspace string, idx int, shard, query string, fn func(int, *engine.Result) error, st *oneShardStream) (pooled bool, err error) {
	start := time.Now()
	sc, tc, pooled, err := vc.conn(ctx, keyspace, shard, &st.conn)
	if err != nil {
		return vc.tx() == nil, err // settings applied on a pooled connection
	}
	defer releasePooled(sc, pooled)
	defer tc.countSince(start)
	st.bind(vc, idx, fn)
	res, err := vc.stream(ctx, sc.conn, query, st.onFields, st.onRow)
	st.fn = nil // let go of the statement's callback
	if err != nil {
		return pooled, err
	}
	if res != nil && res.Warnings > 0 {
		vc.collectWarnings(ctx, sc.conn)
	}
	return pooled, nil
}

// oneShardStream is streamOne's state for one shard's result: the
// callbacks the shard connection calls, bound once, and the Results they
// hand on. The cursor keeps one for the common case of one stream at a
// time, so a point select's stream allocates nothing of its own.
type oneShardStream struct {
	busy atomic.Bool
	// conn holds a pooled connection while the stream reads it.
	conn shardConn

	vc        *vcursor
	idx       int
	fn        func(int, *engine.Result) error
	fieldsRes engine.Result
	rowRes    engine.Result
	rows      [1][][]byte

	onFields func([]*mysql.Field) error // st.fields, bound once
	onRow    func([][]byte) error       // st.row, bound once
}

func (st *oneShardStream) bind(vc *vcursor, idx int, fn func(int, *engine.Result) error) {
	st.vc, st.idx, st.fn = vc, idx, fn
	if st.onRow == nil {
		st.onFields, st.onRow = st.fields, st.row
		st.rowRes.Rows = st.rows[:]
	}
}

func (st *oneShardStream) fields(fields []*mysql.Field) error {
	st.fieldsRes = engine.Result{Fields: fields}
	return st.fn(st.idx, &st.fieldsRes)
}

func (st *oneShardStream) row(row [][]byte) error {
	vc := st.vc
	if vc.buffering {
		if err := vc.budget.take(1); err != nil {
			return err
		}
	}
	if vc.borrowRows {
		st.rows[0] = row
	} else {
		st.rows[0] = copyRow(row)
	}
	return st.fn(st.idx, &st.rowRes)
}

// copyRow detaches a streamed row from the connection's read buffer.
func copyRow(row [][]byte) [][]byte {
	n := 0
	for _, v := range row {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(row))
	for i, v := range row {
		if v != nil {
			start := len(buf)
			buf = append(buf, v...)
			out[i] = buf[start:len(buf):len(buf)]
		}
	}
	return out
}

// collectWarnings reads the warnings of the statement just run on conn, so
// SHOW WARNINGS through the gateway shows them.
func (vc *vcursor) collectWarnings(ctx context.Context, conn *tablet.Conn) {
	res, err := conn.Execute(ctx, "SHOW WARNINGS")
	if err != nil {
		return
	}
	vc.mu.Lock()
	defer vc.mu.Unlock()
	for _, row := range res.Rows {
		if len(row) < 3 {
			continue
		}
		code, _ := strconv.ParseUint(string(row[1]), 10, 16)
		vc.warnings = append(vc.warnings, warning{level: string(row[0]), code: uint16(code), message: string(row[2])})
	}
}

// AddWarning records a warning of the gateway's own.
func (vc *vcursor) AddWarning(code uint16, msg string) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	vc.warnings = append(vc.warnings, warning{level: "Warning", code: code, message: msg})
}

// flushWarnings moves the statement's warnings to the session.
func (vc *vcursor) flushWarnings() {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	vc.s.warnings = append(vc.s.warnings, vc.warnings...)
	vc.warnings = nil
}

// AutoAddTable adds a table created through the gateway to its sharded
// keyspace's vschema, with the default vindex on column, and waits until
// this gateway routes with it.
func (vc *vcursor) AutoAddTable(ctx context.Context, keyspace, table, column string) (string, error) {
	typ := vc.s.srv.cfg.DefaultVindexType
	var vindexName string
	err := vc.s.srv.cfg.Topo.UpdateVSchema(ctx, keyspace, func(k *vschema.Keyspace) error {
		if t := k.Tables[table]; t != nil {
			if len(t.ColumnVindexes) > 0 {
				vindexName = t.ColumnVindexes[0].Name
			}
			return nil
		}
		vindexName = ""
		for name, v := range k.Vindexes {
			if v.Type == typ && (vindexName == "" || name < vindexName) {
				vindexName = name
			}
		}
		if vindexName == "" {
			vindexName = typ
			if k.Vindexes == nil {
				k.Vindexes = map[string]*vschema.VindexDef{}
			}
			k.Vindexes[vindexName] = &vschema.VindexDef{Type: typ}
		}
		if k.Tables == nil {
			k.Tables = map[string]*vschema.Table{}
		}
		k.Tables[table] = &vschema.Table{ColumnVindexes: []*vschema.ColumnVindex{{Column: column, Name: vindexName}}}
		return nil
	})
	if err != nil {
		return "", err
	}
	return vindexName, vc.s.srv.topo.waitForTable(ctx, keyspace, table, 5*time.Second)
}

// NextSequenceValues reserves n consecutive ids from a sequence table.
func (vc *vcursor) NextSequenceValues(ctx context.Context, keyspace, table string, n int64) (int64, error) {
	return vc.s.srv.sequences.next(ctx, vc.r, keyspace, table, n)
}

// waitForTable waits until the routing knows the table, so the statement
// after a CREATE TABLE can use it.
func (t *topology) waitForTable(ctx context.Context, keyspace, table string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		r := t.current.Load()
		if r.snap != nil && r.snap.VSchema != nil {
			if ks := r.snap.VSchema.Keyspaces[keyspace]; ks != nil && ks.Tables[table] != nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gateway: vschema change for %s.%s not seen within %s", keyspace, table, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

var _ engine.ShardStreamer = (*vcursor)(nil)

// BeginShards applies the transaction rules (transaction_mode single,
// READ COMMITTED for shards joining a spanning statement) once for all the
// shards a streaming merge reads, before its per-shard readers start.
func (vc *vcursor) BeginShards(ctx context.Context, keyspace string, shards []string) (func(error) error, error) {
	return vc.txStatement(ctx, keyspace, shards)
}

// StreamShard streams one shard's query; MergeSort calls it from one
// goroutine per shard. The rows handed to fn are the callee's to keep.
func (vc *vcursor) StreamShard(ctx context.Context, keyspace, shard, query string, fn func(*engine.Result) error) error {
	return vc.streamOne(ctx, keyspace, 0, shard, query, func(_ int, r *engine.Result) error { return fn(r) })
}
