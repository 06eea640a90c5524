package twopc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/tablet"
)

// Failpoints a Config.Failpoint hook is called at, in the order of a
// commit with several participants.
const (
	PointPreparedFirst  = "prepared-first"  // the first participant is prepared
	PointPreparedAll    = "prepared-all"    // every participant is prepared
	PointDecided        = "decided"         // the commit decision is durable
	PointCommittedFirst = "committed-first" // the first participant committed
)

// Sentinel errors of Commit, with the class a client gets (sqlerror). A
// shard error wrapped in ErrRolledBack (a deadlock at XA PREPARE) reaches
// the client with its own number; the sentinel's applies otherwise.
var (
	// ErrRolledBack: the transaction was rolled back on every
	// participant (the cause is wrapped too). Aborted: the client may
	// run the transaction again.
	ErrRolledBack = sqlerror.NewSentinel(sqlerror.Aborted, mysql.ER_XA_RBROLLBACK, "twopc: transaction rolled back")
	// ErrOutcomeUnknown: the decision could not be confirmed (etcd
	// unreachable while it was written). Every participant stays
	// prepared and the resolver finishes them per whatever landed in
	// etcd. Internal, and never retryable: the transaction may have
	// committed, so running it again could apply it twice.
	ErrOutcomeUnknown = sqlerror.NewSentinel(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "twopc: commit outcome unknown; the resolver will finish it")
)

// Config configures a Coordinator.
type Config struct {
	Client *clientv3.Client
	// Root is the topology's key prefix ("/shardgate").
	Root string
	// LeaseTTL is the TTL, in seconds, of the lease that tells resolvers
	// this coordinator is alive; 0 means 10.
	LeaseTTL int
	Logger   *slog.Logger
	// Failpoint, if set, is called at each Point* of a commit with
	// several participants, and makes prepares run one at a time so
	// "first" is exact. Crash tests make it kill the process; nothing
	// else should set it.
	Failpoint func(point string)
}

// Coordinator runs the commits of one gateway process. Its etcd lease
// (kept alive by the etcd client's goroutine) marks the process alive;
// it owns the goroutines that delete finished decision records, which
// Close waits for.
type Coordinator struct {
	cfg  Config
	log  *slog.Logger
	recs records
	// mu guards session: renewed when its lease is lost (lease.go).
	mu      sync.Mutex
	session *concurrency.Session
	ctx     context.Context // the sessions'
	seq     atomic.Uint64
	wg      sync.WaitGroup
	// removals are the records of finished transactions waiting to be
	// deleted; running says a removeDecided goroutine (counted in wg)
	// is deleting them.
	removals struct {
		mu      sync.Mutex
		pending []string
		running bool
	}
}

// NewCoordinator grants the coordinator's lease.
func NewCoordinator(ctx context.Context, cfg Config) (*Coordinator, error) {
	if cfg.Client == nil {
		return nil, errors.New("twopc: Config.Client is required")
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Coordinator{cfg: cfg, log: cfg.Logger, recs: records{cli: cfg.Client, root: cfg.Root}, ctx: context.WithoutCancel(ctx)}
	sess, err := c.newSession()
	if err != nil {
		return nil, err
	}
	c.session = sess
	return c, nil
}

// Close waits for background record deletions and revokes the lease
// (after which resolvers may finish this coordinator's branches: call it
// only once no commit is running).
func (c *Coordinator) Close() error {
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session.Close()
}

// NewDTID names a new distributed transaction, under the coordinator's
// live lease.
func (c *Coordinator) NewDTID() string {
	return newDTID(int64(c.lease()), c.seq.Add(1))
}

// Member is a participant's live branch: its xid and the connection that
// started it (XA START), still inside it.
type Member struct {
	Xid
	Conn *tablet.Conn
	// ReadOnly says the branch wrote nothing: it commits in one phase
	// whatever the others do (committing it is rolling it back), so it
	// never costs a prepare or a place in the decision record.
	ReadOnly bool
}

func (c *Coordinator) failpoint(point string) {
	if c.cfg.Failpoint != nil {
		c.cfg.Failpoint(point)
	}
}

// CommitOnePhase commits a transaction with a single participant: XA END
// and XA COMMIT ONE PHASE in one round trip, nothing durable.
func CommitOnePhase(ctx context.Context, m Member) error {
	return m.Conn.Pipeline(ctx, m.End(), m.CommitOnePhase())
}

// Rollback ends and rolls back a branch that is not prepared (or
// prepared on this connection). On error the caller must close the
// connection: an unprepared branch then vanishes with it.
func Rollback(ctx context.Context, m Member) error {
	err := m.Conn.Pipeline(ctx, m.End(), m.Rollback())
	if err != nil && !m.Conn.InTransaction() {
		// XA END fails on a branch already ended (idle or rollback-only);
		// the rollback that followed is what counts.
		_, err = m.Conn.Execute(ctx, m.Rollback())
		if isNotA(err) {
			return nil
		}
	}
	return err
}

// Commit commits a transaction with several participants atomically.
// On return without error every participant is committed, or the
// decision to commit is durable and the resolver finishes the ones that
// failed (their connections must then be closed, not reused: the caller
// closes any connection still InTransaction). On ErrRolledBack nothing
// was committed.
func (c *Coordinator) Commit(ctx context.Context, dtid string, members []Member) error {
	var writers []Member
	var readers []Member
	for _, m := range members {
		if m.ReadOnly {
			readers = append(readers, m)
		} else {
			writers = append(writers, m)
		}
	}
	if len(readers) > 0 {
		// Last, so their locks (SELECT ... FOR UPDATE) are held until the
		// writers are done, as a plain commit would. Their errors don't
		// matter: a read-only branch that fails to commit has nothing to
		// lose (the caller closes its connection).
		defer parallel(len(readers), func(i int) { _ = CommitOnePhase(ctx, readers[i]) })
	}
	switch len(writers) {
	case 0:
		return nil
	case 1:
		if err := CommitOnePhase(ctx, writers[0]); err != nil {
			_ = Rollback(ctx, writers[0])
			return fmt.Errorf("%w: %w", ErrRolledBack, err)
		}
		return nil
	}
	members = writers
	prepared := make([]bool, len(members))
	errs := make([]error, len(members))
	prepare := func(i int) {
		m := members[i]
		errs[i] = m.Conn.Pipeline(ctx, m.End(), m.Prepare())
		prepared[i] = errs[i] == nil
	}
	if c.cfg.Failpoint != nil {
		for i := range members {
			prepare(i)
			if errs[i] != nil {
				break
			}
			if i == 0 {
				c.failpoint(PointPreparedFirst)
			}
		}
	} else {
		parallel(len(members), prepare)
	}
	if err := errors.Join(errs...); err != nil {
		c.abort(ctx, dtid, members, prepared)
		return fmt.Errorf("%w: %w", ErrRolledBack, firstErr(errs))
	}
	c.failpoint(PointPreparedAll)

	rec := &Record{DTID: dtid, State: StateCommit, Decided: time.Now().UTC(), By: "coordinator"}
	for _, m := range members {
		rec.Participants = append(rec.Participants, Participant{Keyspace: m.Keyspace, Shard: m.Shard})
	}
	stands, err := c.recs.decide(ctx, rec)
	if err != nil {
		// The write may or may not have landed. Leave every branch
		// prepared, and keep trying to settle a decision in the background
		// (ours, or a resolver's rollback): once one stands, the resolver
		// finishes the branches even though this coordinator lives.
		c.log.Error("twopc: decision not confirmed; leaving branches prepared for the resolver", "dtid", dtid, "err", err)
		c.settle(rec)
		return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	if stands.State != StateCommit {
		// A resolver took us for dead and decided first.
		c.abort(ctx, dtid, members, prepared)
		return fmt.Errorf("%w: a resolver decided %s first", ErrRolledBack, stands.State)
	}
	c.failpoint(PointDecided)

	var firstDone atomic.Bool
	commit := func(i int) {
		m := members[i]
		_, errs[i] = m.Conn.Execute(ctx, m.Commit())
		if errs[i] == nil && c.cfg.Failpoint != nil && firstDone.CompareAndSwap(false, true) {
			c.failpoint(PointCommittedFirst)
		}
	}
	if c.cfg.Failpoint != nil {
		for i := range members {
			commit(i)
		}
	} else {
		parallel(len(members), commit)
	}
	if err := errors.Join(errs...); err != nil {
		// Committed by decision; the resolver commits the rest once their
		// connections are closed.
		c.log.Warn("twopc: commit decided but a participant failed to commit; the resolver will finish it", "dtid", dtid, "err", err)
		return nil
	}
	c.removeLater(dtid)
	return nil
}

// maxRemovalsPerTxn bounds one etcd transaction of record deletions
// (etcd refuses more than --max-txn-ops, 128 by default).
const maxRemovalsPerTxn = 64

// removeLater deletes a finished transaction's decision record in the
// background. Records finished while a deletion is in flight go together
// in the next etcd transaction: under load one raft write removes many,
// and an idle coordinator keeps no goroutine. Close waits for them.
func (c *Coordinator) removeLater(dtid string) {
	c.removals.mu.Lock()
	c.removals.pending = append(c.removals.pending, dtid)
	start := !c.removals.running
	c.removals.running = true
	c.removals.mu.Unlock()
	if start {
		c.wg.Add(1)
		go c.removeDecided()
	}
}

// removeDecided deletes pending records until there are none left.
func (c *Coordinator) removeDecided() {
	defer c.wg.Done()
	for {
		c.removals.mu.Lock()
		batch := c.removals.pending
		c.removals.pending = nil
		if len(batch) == 0 {
			c.removals.running = false
			c.removals.mu.Unlock()
			return
		}
		c.removals.mu.Unlock()
		for len(batch) > 0 {
			n := min(len(batch), maxRemovalsPerTxn)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := c.recs.removeAll(ctx, batch[:n]); err != nil {
				c.log.Warn("twopc: delete decision records (the resolver will)", "dtids", batch[:n], "err", err)
			}
			cancel()
			batch = batch[n:]
		}
	}
}

// abort rolls every participant back. A branch that will not roll back
// (prepared, or maybe prepared: its prepare's answer was lost) gets a
// durable rollback decision, so the resolver finishes it even though
// this coordinator is alive.
func (c *Coordinator) abort(ctx context.Context, dtid string, members []Member, prepared []bool) {
	stuck := false
	for i, m := range members {
		var err error
		if prepared[i] {
			_, err = m.Conn.Execute(ctx, m.Rollback())
		} else {
			err = Rollback(ctx, m)
		}
		if err != nil {
			// Also a member whose connection is lost (a primary frozen or
			// killed mid-prepare): its branch may be prepared there, and
			// replicated to the replica that replaces it. Without a
			// record the resolver would leave it to this live coordinator
			// forever. (A server that answers with an error has no
			// prepared branch of this connection's.)
			var me *mysql.MyError
			stuck = stuck || prepared[i] || !errors.As(err, &me)
			c.log.Warn("twopc: rollback failed", "dtid", dtid, "xid", m.Xid.String(), "prepared", prepared[i], "err", err)
		}
	}
	if stuck {
		rec := &Record{DTID: dtid, State: StateRollback, Decided: time.Now().UTC(), By: "coordinator"}
		for _, m := range members {
			rec.Participants = append(rec.Participants, Participant{Keyspace: m.Keyspace, Shard: m.Shard})
		}
		if _, err := c.recs.decide(context.WithoutCancel(ctx), rec); err != nil {
			c.log.Error("twopc: record rollback decision", "dtid", dtid, "err", err)
		}
	}
}

// parallel runs fn(0..n-1) at once and waits for them. The last runs on
// the calling goroutine: a one-member call (the usual read-only
// participant) starts no goroutine, and none pays for growing a fresh
// goroutine's stack.
func parallel(n int, fn func(i int)) {
	if n == 0 {
		return
	}
	var wg sync.WaitGroup
	for i := range n - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	fn(n - 1)
	wg.Wait()
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// settle retries the decision until one stands (or about a minute has
// passed: then the lease, gone with this process, lets the resolver
// decide). It runs on a goroutine Close waits for.
func (c *Coordinator) settle(rec *Record) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for range 60 {
			time.Sleep(time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			stands, err := c.recs.decide(ctx, rec)
			cancel()
			if err == nil {
				c.log.Info("twopc: decision settled", "dtid", rec.DTID, "state", stands.State)
				return
			}
		}
	}()
}
