package gateway

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
)

// A statement's life: every COM_QUERY, COM_STMT_EXECUTE, COM_STMT_PREPARE
// and COM_FIELD_LIST starts in beginStatement and ends in endStatement.
// In between it has
//
//   - its own context, a child of the session's: it ends at the statement's
//     deadline (the gateway's --query-timeout, the session's
//     max_statement_time / max_execution_time), when another session sends
//     KILL QUERY or KILL CONNECTION, when the client disconnects, or when
//     the gateway shuts down. Shard queries run under it, and a shard query
//     whose context ends is killed on the shard (tablet.Conn).
//   - one topology snapshot (s.stmt.routing), read once at its start;
//   - fresh warnings (SHOW WARNINGS reads the previous statement's);
//   - the hooks (StatementHooks) that observe every statement.
//
// A statement that ends without being cancelled leaves its context to the
// next one, so the common path allocates nothing; a cancelled context gets
// a fresh one. A time limit is a timer reset per statement (timedOut).

// Causes of a statement's end, read with context.Cause.
var (
	errStatementKilled  = errors.New("gateway: statement killed (KILL QUERY)")
	errSessionKilled    = errors.New("gateway: connection killed (KILL CONNECTION)")
	errStatementTimeout = errors.New("gateway: statement ran past its time limit")
	errClientGone       = errors.New("gateway: client disconnected")
)

// clientCheckInterval is how often a running statement checks that its
// client is still connected.
const clientCheckInterval = 100 * time.Millisecond

// statement is the session's running statement. The session's goroutine
// owns it, except the fields under mu, which KILL from another session and
// the client check (a timer goroutine) also use.
type statement struct {
	routing *routing
	started time.Time
	sql     string
	// buffered is how long the statement's shard calls waited in the
	// buffer for a serving primary, in nanoseconds (calls of a fan-out
	// add up).
	buffered atomic.Int64

	// ctx is the running statement's context; it is kept for the next
	// statement while it has not been cancelled.
	ctx context.Context

	// What metrics, query digests and the query log learn as the
	// statement runs (observe.go): its plan (nil until planned), the plan
	// cache entry it came from and the length of that entry key's target
	// prefix, the rows it returned or changed, the shard queries it sent
	// (from several goroutines when a plan fans out). protocolOnly marks
	// a COM_STMT_PREPARE or COM_FIELD_LIST: counted for its errors only.
	plan         *planner.Plan
	cached       *planEntry
	keyPrefix    int
	rows         uint64
	shardQueries atomic.Int32
	protocolOnly bool
	// comments are the margin comments set aside for the plan cache,
	// put back around each shard query (margin_comments.go).
	comments marginComments

	mu      sync.Mutex
	cancel  context.CancelCauseFunc
	running bool
	// user and db are the session's when the statement began, and ended
	// is when it ended: what another session's SHOW PROCESSLIST reads
	// (processlist.go). sql and started are under mu too for it.
	user, db string
	ended    time.Time
	// check, created on the first statement, looks at the client's socket
	// while a statement runs; it stops itself when none does.
	check *time.Timer
	// timeout, created on the first statement with a time limit, cancels
	// the statement at deadline (errStatementTimeout). A timer reset per
	// statement instead of a context.WithDeadline: with the gateway's
	// default --query-timeout every statement has a limit, and a fresh
	// deadline context cost ~10 allocations and a child registration on
	// the session's context per statement.
	timeout  *time.Timer
	deadline time.Time
}

// beginStatement starts a statement of sql (the text the client sent, for
// the hooks) and returns its context.
func (s *session) beginStatement(sql string) context.Context {
	st := &s.stmt
	st.routing = s.srv.topo.current.Load()
	st.buffered.Store(0)
	st.plan, st.cached, st.keyPrefix, st.rows, st.protocolOnly = nil, nil, 0, 0, false
	st.comments = marginComments{}
	st.shardQueries.Store(0)
	s.newWarnings()

	limit := s.timeLimit()
	st.mu.Lock()
	st.sql, st.started = sql, time.Now()
	st.user, st.db = s.user, s.keyspace
	if st.ctx == nil || st.ctx.Err() != nil {
		st.release()
		st.ctx, st.cancel = context.WithCancelCause(s.ctx)
	}
	st.deadline = time.Time{}
	if limit > 0 {
		st.deadline = st.started.Add(limit)
		if st.timeout == nil {
			st.timeout = time.AfterFunc(limit, st.timedOut)
		} else {
			st.timeout.Reset(limit)
		}
	}
	st.running = true
	if s.clientAlive != nil {
		if st.check == nil {
			st.check = time.AfterFunc(clientCheckInterval, s.checkClient)
		} else {
			st.check.Reset(clientCheckInterval)
		}
	}
	st.mu.Unlock()
	if h := s.srv.cfg.Hooks; h != nil {
		h.StatementStarted(s.info())
	}
	return st.ctx
}

// release frees the statement context's resources (st.mu held).
func (st *statement) release() {
	if st.timeout != nil {
		st.timeout.Stop()
	}
	if st.cancel != nil {
		st.cancel(nil)
	}
}

// endStatement ends the running statement; err is what it answered (nil
// for success). It returns the error the client should see: a statement
// cut short by its context answers for why it was.
func (s *session) endStatement(err error) error {
	st := &s.stmt
	st.mu.Lock()
	st.running = false
	st.ended = time.Now()
	if st.check != nil {
		st.check.Stop()
	}
	if st.timeout != nil {
		st.timeout.Stop()
	}
	ctx := st.ctx
	st.mu.Unlock()
	if !errors.Is(err, errReported) {
		err = s.clientError(err)
	}
	if ctx.Err() != nil && s.tx != nil && s.tx.lostParticipant() {
		// A shard query cut short took its connection with it, and the
		// transaction with that: the rest of it is rolled back, and the
		// session answers so until the client ends it.
		s.tx.abort(context.WithoutCancel(ctx), errTxInterrupted)
	}
	took := time.Since(st.started)
	info := s.observe(took, err)
	if h := s.srv.cfg.Hooks; h != nil {
		if info.SQL == "" {
			info = s.info()
		}
		h.StatementFinished(info, took, err)
	}
	st.routing = nil
	return err
}

// clientError is the error the client sees for err: a statement cut short
// by its context answers for why it was.
func (s *session) clientError(err error) error {
	if err == nil || s.stmt.ctx == nil || s.stmt.ctx.Err() == nil {
		return err
	}
	return interruptedError(context.Cause(s.stmt.ctx), err)
}

// interruptedError says why a statement stopped early; an error the shard
// answered for its own reason (a duplicate key, say) is kept.
func interruptedError(cause, err error) error {
	if me := sqlerror.ToMyError(err); me.Code != mysql.ER_QUERY_INTERRUPTED && me.Code != mysql.ER_UNKNOWN_ERROR {
		return err
	}
	switch cause {
	case errStatementTimeout:
		return sqlerror.New(sqlerror.Interrupted, erStatementTimeout, "Query execution was interrupted (max_statement_time exceeded)")
	case errSessionKilled:
		return errConnectionKilled()
	}
	return sqlerror.New(sqlerror.Interrupted, mysql.ER_QUERY_INTERRUPTED, "Query execution was interrupted")
}

func errConnectionKilled() error {
	return sqlerror.New(sqlerror.Interrupted, erConnectionKilled, "Connection was killed")
}

// MariaDB's numbers for a statement past max_statement_time and for a
// killed connection.
const (
	erStatementTimeout = 1969
	erConnectionKilled = 1927
)

// timeLimit is the running statement's time limit: the smallest of the
// gateway's and the session's, 0 for none.
func (s *session) timeLimit() time.Duration {
	limit := s.srv.cfg.QueryTimeout
	if l := s.maxStatementTime; l > 0 && (limit <= 0 || l < limit) {
		limit = l
	}
	return limit
}

// killQuery cancels the session's running statement, if any (KILL QUERY).
func (s *session) killQuery(cause error) {
	st := &s.stmt
	st.mu.Lock()
	if st.running && st.cancel != nil {
		st.cancel(cause)
	}
	st.mu.Unlock()
}

// timedOut runs on the statement timer: it cancels the running statement
// if its deadline has passed. A firing that raced with the statement's
// end, or with the next statement's start (whose deadline is later), does
// nothing.
func (st *statement) timedOut() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.running && !st.deadline.IsZero() && !time.Now().Before(st.deadline) {
		st.cancel(errStatementTimeout)
	}
}

// checkClient runs on a timer while a statement runs: a client that has
// disconnected cancels it, so its shard queries stop.
func (s *session) checkClient() {
	st := &s.stmt
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.running {
		return
	}
	if !s.clientAlive() {
		st.cancel(errClientGone)
		return
	}
	st.check.Reset(clientCheckInterval)
}

// newWarnings starts the statement's warnings; the previous statement's
// stay readable by SHOW WARNINGS, which keeps them as they are.
func (s *session) newWarnings() {
	s.prevWarnings, s.warnings = s.warnings, s.prevWarnings[:0]
}

// StatementHooks observe every statement a gateway runs: metrics, the
// query log, access checks and buffering attach here. They are called on
// the session's goroutine and must not block.
type StatementHooks interface {
	StatementStarted(info StatementInfo)
	StatementFinished(info StatementInfo, took time.Duration, err error)
}

// StatementInfo describes a running statement to the hooks. The fields
// after SQL are known only when it has finished (StatementFinished), and
// only when the gateway keeps metrics.
type StatementInfo struct {
	ConnectionID uint32
	User         string
	Keyspace     string
	SQL          string

	// Statement is its kind (select, insert, update, delete, ddl, other)
	// and Plan its plan's root opcode (EqualUnique, Scatter, ...; None
	// for statements without a plan).
	Statement string
	Plan      string
	// Digest is the id of its query digest (SHOW QUERY STATS) and
	// DigestText its text with the literals replaced.
	Digest     string
	DigestText string
	// Rows it returned or changed; ShardQueries it sent to tablets.
	Rows         uint64
	ShardQueries int
	// Buffered is how long the statement waited for a shard's serving
	// primary (buffer.go); known when it finishes.
	Buffered time.Duration
}

func (s *session) info() StatementInfo {
	return StatementInfo{ConnectionID: s.id, User: s.user, Keyspace: s.keyspace, SQL: s.stmt.sql, Buffered: time.Duration(s.stmt.buffered.Load())}
}

// routing is the running statement's topology snapshot; outside a
// statement (COM_INIT_DB), the current one.
func (s *session) routing() *routing {
	if r := s.stmt.routing; r != nil {
		return r
	}
	return s.srv.topo.current.Load()
}
