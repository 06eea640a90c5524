package gateway

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/twopc"
)

// transaction is a session's open transaction: one dedicated connection per
// shard it has touched, opened lazily on the first statement that reaches
// the shard. How it commits is its mode (see txmode.go); which isolation
// each shard begins with is in join.
type transaction struct {
	mu sync.Mutex // the executor may join shards from parallel goroutines
	// metrics counts how it ends (nil when the gateway keeps none).
	metrics *metrics
	mode    txMode
	// readOnly: START TRANSACTION READ ONLY (or SET TRANSACTION READ
	// ONLY before it): every shard begins READ ONLY, so a write fails
	// there with 1792 as on one MySQL.
	readOnly bool
	coord    *twopc.Coordinator // twopc mode only
	// dtid names the distributed transaction in twopc mode; every shard
	// transaction is the XA branch (dtid, "keyspace:shard").
	dtid  string
	parts map[shardKey]*participant
	order []shardKey // join order
	// isolation is SET TRANSACTION ISOLATION LEVEL's level for this
	// transaction, "" for the session's own. It applies to the first
	// participant only; see join.
	isolation  string
	savepoints []savepoint
	// aborted, once set, is what every later statement of the transaction
	// answers until the client ends it: it was rolled back under the
	// client (a statement cut short took a shard connection with it).
	aborted error
	// readOutside is set once a plain read ran on pooled connections
	// instead of joining shards (readsOutside): the transaction has begun,
	// so a shard joining later begins READ COMMITTED.
	readOutside bool
}

// errTxInterrupted answers the statements of a transaction rolled back
// because one of its statements was interrupted (XA_RBROLLBACK: the
// distributed transaction's branches were rolled back).
var errTxInterrupted = sqlerror.New(sqlerror.Aborted, mysql.ER_XA_RBROLLBACK, "Transaction was rolled back: a statement in it was interrupted; end it with ROLLBACK")

// lostParticipant tells whether a shard's connection of the transaction
// has broken (its transaction on that shard is gone with it).
func (t *transaction) lostParticipant() bool {
	for _, key := range t.order {
		if t.parts[key].sc.conn.IsBroken() {
			return true
		}
	}
	return false
}

// abort rolls the transaction back on every shard and makes its later
// statements answer err.
func (t *transaction) abort(ctx context.Context, err error) {
	t.rollback(ctx)
	t.aborted = err
}

// participant is one shard of a transaction.
type participant struct {
	sc  *shardConn
	xid twopc.Xid // twopc mode
	// wrote is set once a statement other than a SELECT ran on it; a
	// participant that only read commits in one phase (see twopc.Member).
	wrote atomic.Bool
	// beganAhead: its begin went out ahead of the read that joined it,
	// in the same round trip (join); its connection's AheadFailed tells
	// whether the shard began.
	beganAhead bool
}

// shardConn is a connection taken from a tablet's pool, with the session's
// settings applied; release resets them and returns it.
type shardConn struct {
	pool  *tablet.Pool
	conn  *tablet.Conn
	reset string // statement that undoes the session settings, if any
}

// acquire takes a connection from the pool and applies the session settings.
func acquire(ctx context.Context, pool *tablet.Pool, set *settings) (*shardConn, error) {
	return acquireInto(ctx, nil, pool, set)
}

// acquireInto is acquire into dst's memory, if not nil (a cursor's
// spare: a pooled shard query then allocates no shardConn).
func acquireInto(ctx context.Context, dst *shardConn, pool *tablet.Pool, set *settings, then ...string) (*shardConn, error) {
	conn, err := pool.Get(ctx)
	if err != nil {
		return nil, err
	}
	if dst == nil {
		dst = new(shardConn)
	}
	*dst = shardConn{pool: pool, conn: conn}
	sc := dst
	stmts := then
	if apply := set.applySQL(); apply != "" {
		stmts = append([]string{apply}, then...)
		sc.reset = set.resetSQL()
	}
	if len(stmts) > 0 {
		if err := conn.Pipeline(ctx, stmts...); err != nil {
			conn.Close()
			pool.Put(conn)
			return nil, err
		}
	}
	return sc, nil
}

// acquireWith takes a connection, applies the session settings and runs
// then (transaction control), all pipelined in one round trip. On error
// the connection is closed: whatever part of the pipeline ran is
// undone with it.
func acquireWith(ctx context.Context, pool *tablet.Pool, set *settings, then ...string) (*shardConn, error) {
	return acquireInto(ctx, nil, pool, set, then...)
}

// release returns the connection to its pool. A connection whose settings
// cannot be undone is closed rather than handed to another session.
func (sc *shardConn) release(ctx context.Context) {
	if sc.reset != "" {
		if ctx.Err() != nil {
			// The statement's context has ended (deadline, KILL); the
			// reset still has to run. Only then, as it allocates.
			ctx = context.WithoutCancel(ctx)
		}
		if _, err := sc.conn.Execute(ctx, sc.reset); err != nil {
			sc.conn.Close()
		}
	}
	sc.pool.Put(sc.conn)
}

func newTransaction(mode txMode, coord *twopc.Coordinator, isolation string) *transaction {
	t := &transaction{mode: mode, parts: map[shardKey]*participant{}, isolation: isolation}
	if mode == modeTwoPC {
		t.coord = coord
		t.dtid = coord.NewDTID()
	}
	return t
}

// readCommitted is the level of every shard of a transaction that spans
// shards (see join).
const readCommitted = "READ COMMITTED"

// join returns the shard's connection, beginning the shard transaction on
// first use. Isolation, per the sharding rules (docs/NOTES.md):
//
//   - the first participant of a transaction whose first statement
//     touches one shard begins with the session's level (REPEATABLE READ
//     unless the session or SET TRANSACTION said otherwise) and keeps it
//     even if the transaction grows: a running transaction's level can't
//     be changed;
//   - every shard that joins after the first, and every shard of a
//     transaction whose first statement spans several (spanning), begins
//     READ COMMITTED.
func (t *transaction) join(ctx context.Context, key shardKey, pool *tablet.Pool, set *settings, spanning, write bool) (*shardConn, error) {
	t.mu.Lock()
	p := t.parts[key]
	first := len(t.order) == 0 && !t.readOutside
	t.mu.Unlock()
	if p != nil {
		if p.beganAhead && p.sc.conn.AheadFailed() {
			// Its begin failed and the statement that found out did not
			// take it out (forgetFailedBegins): nothing may run there as
			// if in the transaction.
			return nil, errTxBeginFailed
		}
		if write {
			p.wrote.Store(true)
		}
		return p.sc, nil
	}
	var begin []string
	switch {
	case !first || spanning:
		begin = append(begin, "SET TRANSACTION ISOLATION LEVEL "+readCommitted)
	case t.isolation != "":
		begin = append(begin, "SET TRANSACTION ISOLATION LEVEL "+t.isolation)
	}
	p = &participant{}
	switch {
	case t.readOnly:
		begin = append(begin, "START TRANSACTION READ ONLY")
	case t.mode == modeTwoPC:
		p.xid = twopc.Xid{DTID: t.dtid, Keyspace: key.keyspace, Shard: key.shard}
		begin = append(begin, p.xid.Start())
	default:
		begin = append(begin, "START TRANSACTION")
	}
	var sc *shardConn
	var err error
	if write {
		// A write must not run unless the begin did: one round trip for
		// the begin, then the write.
		sc, err = acquireWith(ctx, pool, set, begin...)
	} else if sc, err = acquire(ctx, pool, set); err == nil {
		// A read goes out right behind its begin, in the same write
		// (tablet's SendAhead): no round trip of its own. If the begin
		// fails the read still runs, outside the transaction (it reads
		// committed rows and writes nothing), answers the begin's error,
		// and the statement's end takes the shard out again
		// (forgetFailedBegins).
		sc.conn.SendAhead(begin...)
		p.beganAhead = true
	}
	if err != nil {
		return nil, err
	}
	p.sc = sc
	p.wrote.Store(write)
	t.mu.Lock()
	t.parts[key] = p
	t.order = append(t.order, key)
	t.mu.Unlock()
	return sc, nil
}

// errTxBeginFailed answers a statement that would run on a shard whose
// begin, sent ahead of an earlier read, failed without that read's
// statement taking the shard out of the transaction. The transaction is
// rolled back (class Aborted): it can't tell what ran where.
var errTxBeginFailed = sqlerror.New(sqlerror.Aborted, mysql.ER_XA_RBROLLBACK, "Transaction was rolled back: a shard failed to begin it; end it with ROLLBACK")

// forgetFailedBegins takes out of the transaction the shards whose
// begin, sent ahead of a read (join), failed: the read answered that
// failure, and the shard holds nothing of the transaction. They joined
// with the statement that just failed, so they are the last
// participants, after every savepoint's. Their connections are closed:
// a begin that failed may have left one in a state of its own.
func (t *transaction) forgetFailedBegins(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.order[:0]
	for _, key := range t.order {
		p := t.parts[key]
		if p.beganAhead && p.sc.conn.AheadFailed() {
			p.sc.conn.Close()
			p.sc.release(ctx)
			delete(t.parts, key)
			continue
		}
		kept = append(kept, key)
	}
	t.order = kept
}

// readsOutside tells whether a plain read (a SELECT that takes no row
// locks) on a shard the transaction has not joined runs on a pooled
// connection instead of joining it. It does when the shard would join
// READ COMMITTED (not the first participant, or a statement spanning
// shards): under READ COMMITTED every statement reads the latest
// committed rows, which is what an autocommit SELECT reads too, and the
// transaction has written nothing there for the read to see. The shard
// then costs no transaction begin and no commit (in twopc mode XA START,
// XA END and XA COMMIT ONE PHASE: three statements and two round trips)
// until a write or a locking read joins it. The first participant still
// joins on a read: its REPEATABLE READ snapshot starts there.
func (t *transaction) readsOutside(spanning bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.order) == 0 && !t.readOutside && !spanning {
		return false
	}
	t.readOutside = true
	return true
}

// wouldSpan reports whether running on shards would make the transaction
// touch more than one shard, and two of them.
func (t *transaction) wouldSpan(keyspace string, shards []string) (shardKey, shardKey, bool) {
	t.mu.Lock()
	keys := append([]shardKey(nil), t.order...)
	t.mu.Unlock()
	for _, sh := range shards {
		keys = append(keys, shardKey{keyspace, sh})
	}
	for _, k := range keys[1:] {
		if k != keys[0] {
			return keys[0], k, true
		}
	}
	return shardKey{}, shardKey{}, false
}

// errSingleSpan refuses, in transaction_mode single, a statement that
// would touch a second shard. Nothing ran: the transaction goes on.
func errSingleSpan(have, next shardKey) error {
	return sqlerror.New(sqlerror.Unsupported, mysql.ER_NOT_SUPPORTED_YET,
		"transaction_mode is 'single': the transaction is on %s/%s and this statement would also touch %s/%s (SET transaction_mode = 'twopc' to span shards)",
		have.keyspace, have.shard, next.keyspace, next.shard)
}

// commit ends the transaction per its mode and releases the connections.
// single/multi: COMMIT shard by shard in join order, going on after a
// failure so no connection stays in a transaction, returning the first
// error. twopc: see package twopc.
//
// Ending a transaction is not interrupted by the end of the statement's
// context (a deadline, KILL QUERY, a client gone): a commit cut between
// its shards would leave them to the resolver or, outside twopc, split.
func (t *transaction) commit(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if t.mode == modeTwoPC && len(t.order) > 0 {
		// Shards read outside (readsOutside) are no members: they hold
		// nothing of the transaction.
		members := make([]twopc.Member, len(t.order))
		writers := 0
		for i, key := range t.order {
			p := t.parts[key]
			members[i] = twopc.Member{Xid: p.xid, Conn: p.sc.conn, ReadOnly: !p.wrote.Load()}
			if !members[i].ReadOnly {
				writers++
			}
		}
		err := t.coord.Commit(ctx, t.dtid, members)
		t.releaseAll(ctx)
		t.countEnd(err, writers > 1)
		return err
	}
	touched := len(t.order) > 0 || t.readOutside
	err := t.finish(ctx, "COMMIT")
	if touched {
		t.countEnd(err, false)
	}
	return err
}

func (t *transaction) rollback(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if len(t.order) > 0 || t.readOutside {
		t.countRollback()
	}
	if t.mode == modeTwoPC {
		for _, key := range t.order {
			t.rollbackPart(ctx, key)
		}
		t.parts, t.order = nil, nil
		return
	}
	_ = t.finish(ctx, "ROLLBACK")
}

// rollbackPart rolls one participant back entirely and releases it.
func (t *transaction) rollbackPart(ctx context.Context, key shardKey) {
	ctx = context.WithoutCancel(ctx)
	p := t.parts[key]
	if t.mode == modeTwoPC {
		if err := twopc.Rollback(ctx, twopc.Member{Xid: p.xid, Conn: p.sc.conn}); err != nil {
			p.sc.conn.Close() // an unprepared branch dies with its connection
		}
	} else if _, err := p.sc.conn.Execute(ctx, "ROLLBACK"); err != nil {
		p.sc.conn.Close()
	}
	p.sc.release(ctx)
	delete(t.parts, key)
}

// releaseAll returns every connection. One still inside a transaction (a
// prepared branch whose commit failed) is closed by its pool, which
// leaves the branch to the resolver.
func (t *transaction) releaseAll(ctx context.Context) {
	for _, key := range t.order {
		t.parts[key].sc.release(ctx)
	}
	t.parts, t.order = nil, nil
}

func (t *transaction) finish(ctx context.Context, verb string) error {
	var first error
	for _, key := range t.order {
		sc := t.parts[key].sc
		if _, err := sc.conn.Execute(ctx, verb); err != nil {
			if first == nil {
				first = err
			}
			if verb == "COMMIT" {
				// Leave nothing half-open on the connection we return.
				sc.conn.Execute(ctx, "ROLLBACK")
			}
		}
		sc.release(ctx)
	}
	t.parts, t.order = nil, nil
	return first
}

func (s *session) begin(ctx context.Context, readOnly bool) error {
	if s.tx != nil {
		// BEGIN inside a transaction commits it first, as in MySQL.
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
	s.tx = s.beginTransaction(readOnly)
	return nil
}

// newTransaction starts the session's next transaction, which takes the
// one-shot isolation level and READ ONLY if they were set.
func (s *session) newTransaction() *transaction { return s.beginTransaction(false) }

// beginTransaction starts the next transaction, READ ONLY when readOnly
// or SET TRANSACTION READ ONLY said so. A read-only transaction writes
// nothing for two-phase commit to protect: it commits shard by shard.
func (s *session) beginTransaction(readOnly bool) *transaction {
	readOnly = readOnly || s.nextTxReadOnly
	mode := s.txMode
	if readOnly && mode == modeTwoPC {
		mode = modeMulti
	}
	tx := s.srv.newTx(mode, s.nextTxIsolation)
	tx.readOnly = readOnly
	s.nextTxIsolation, s.nextTxReadOnly = "", false
	return tx
}

func (s *session) commit(ctx context.Context) error {
	if s.tx == nil {
		return nil
	}
	tx := s.tx
	s.tx = nil
	if tx.aborted != nil {
		return tx.aborted
	}
	return tx.commit(ctx)
}

func (s *session) rollback(ctx context.Context) {
	if s.tx == nil {
		return
	}
	tx := s.tx
	s.tx = nil
	tx.rollback(ctx)
}

// abortOnError rolls the open transaction back on every shard if err is
// of class Aborted (a lock wait timeout, a deadlock, an XA branch rolled
// back): a shard has rolled back or kept a half-done statement, so the
// distributed transaction can't go on consistently. err reaches the client
// unchanged. Any error first takes out the shards whose begin, sent
// ahead of the failed read, failed (forgetFailedBegins).
func (s *session) abortOnError(ctx context.Context, err error) {
	if s.tx != nil && err != nil {
		s.tx.forgetFailedBegins(ctx)
	}
	if s.tx != nil && s.tx.aborted == nil && err != nil && sqlerror.ClassOf(err) == sqlerror.Aborted {
		s.rollback(ctx)
	}
}

// isWrite tells the statements that, in autocommit mode, run as a
// transaction when they reach several shards.
func isWrite(t planner.StmtType) bool {
	switch t {
	case planner.StmtInsert, planner.StmtReplace, planner.StmtUpdate, planner.StmtDelete:
		return true
	}
	return false
}

// execute runs a non-SELECT plan. One that needs a transaction (a row
// move: several dependent shard calls) runs, when the session has none
// open, in a transaction of its own in the session's mode; inside the
// session's transaction it runs under the statement savepoint, and so
// does a plain write (executeWrite).
func (s *session) execute(ctx context.Context, plan *planner.Plan, cursor execCursor, args []any) (*engine.Result, error) {
	vc, real := cursor.(*vcursor)
	if !real || s.tabletType != topo.TabletPrimary {
		return plan.Root.Execute(ctx, cursor, args)
	}
	if !engine.NeedsTransaction(plan.Root) {
		if s.tx != nil && isWrite(plan.Type) {
			return s.executeWrite(ctx, plan, vc, args) // transaction_statement.go
		}
		return plan.Root.Execute(ctx, cursor, args)
	}
	if s.tx != nil {
		return s.executeAtomically(ctx, plan, cursor, args)
	}
	tx := s.srv.newTx(s.txMode, "")
	vc.implicit = tx
	defer func() { vc.implicit = nil }()
	res, err := plan.Root.Execute(ctx, vc, args)
	if err != nil {
		tx.rollback(ctx)
		return nil, err
	}
	if err := tx.commit(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// stmtSavepoint is the savepoint a statement sets in an open transaction
// to undo itself on failure: a dependent multi-call statement on every
// participant (executeAtomically), a plain write reaching several shards
// on those it reaches (transaction_statement.go). A name applications are
// unlikely to use.
const stmtSavepoint = "shardgate_statement"

// executeAtomically runs a plan of several dependent shard calls inside
// the session's transaction as MySQL runs a statement: if it fails, its
// work so far is undone (ROLLBACK TO a savepoint set before it; shards it
// joined leave the transaction) and the transaction goes on. Without
// this, a failed owner write would leave the lookup rows written before
// it in the transaction.
func (s *session) executeAtomically(ctx context.Context, plan *planner.Plan, cursor execCursor, args []any) (*engine.Result, error) {
	tx := s.tx
	if err := tx.setSavepoint(ctx, stmtSavepoint); err != nil {
		return nil, err
	}
	res, err := plan.Root.Execute(ctx, cursor, args)
	if err == nil {
		return res, nil
	}
	if s.tx == tx { // a deadlock may have ended it already
		if rbErr := tx.rollbackTo(ctx, stmtSavepoint); rbErr != nil {
			s.rollback(ctx)
			return nil, err
		}
	}
	return nil, err
}
