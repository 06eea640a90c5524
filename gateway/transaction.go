package gateway

import (
	"context"
	"sync"

	"github.com/shardgate/shardgate/tablet"
)

// transaction is a session's open transaction: one dedicated connection per
// shard it has touched, opened lazily on the first statement that reaches
// the shard. Commit goes shard by shard in the order they joined
// (best-effort "multi" mode; atomic two-phase commit is a later capability).
type transaction struct {
	mu    sync.Mutex // the executor may join shards from parallel goroutines
	conns map[shardKey]*shardConn
	order []shardKey
	// isolation is SET TRANSACTION ISOLATION LEVEL's level for this
	// transaction, "" for the session's own.
	isolation string
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
	conn, err := pool.Get(ctx)
	if err != nil {
		return nil, err
	}
	sc := &shardConn{pool: pool, conn: conn}
	if apply := set.applySQL(); apply != "" {
		if _, err := conn.Execute(ctx, apply); err != nil {
			pool.Put(conn)
			return nil, err
		}
		sc.reset = set.resetSQL()
	}
	return sc, nil
}

// release returns the connection to its pool. A connection whose settings
// cannot be undone is closed rather than handed to another session.
func (sc *shardConn) release(ctx context.Context) {
	if sc.reset != "" {
		if _, err := sc.conn.Execute(ctx, sc.reset); err != nil {
			sc.conn.Close()
		}
	}
	sc.pool.Put(sc.conn)
}

func newTransaction(isolation string) *transaction {
	return &transaction{conns: map[shardKey]*shardConn{}, isolation: isolation}
}

// join returns the shard's connection, beginning the shard transaction on
// first use.
func (t *transaction) join(ctx context.Context, key shardKey, pool *tablet.Pool, set *settings) (*shardConn, error) {
	t.mu.Lock()
	sc := t.conns[key]
	t.mu.Unlock()
	if sc != nil {
		return sc, nil
	}
	sc, err := acquire(ctx, pool, set)
	if err != nil {
		return nil, err
	}
	if t.isolation != "" {
		if _, err := sc.conn.Execute(ctx, "SET TRANSACTION ISOLATION LEVEL "+t.isolation); err != nil {
			sc.release(ctx)
			return nil, err
		}
	}
	if _, err := sc.conn.Execute(ctx, "START TRANSACTION"); err != nil {
		sc.release(ctx)
		return nil, err
	}
	t.mu.Lock()
	t.conns[key] = sc
	t.order = append(t.order, key)
	t.mu.Unlock()
	return sc, nil
}

// commit commits every shard in join order and releases the connections.
// It keeps going after a failure so no connection stays in a transaction,
// and returns the first error.
func (t *transaction) commit(ctx context.Context) error {
	return t.finish(ctx, "COMMIT")
}

func (t *transaction) rollback(ctx context.Context) {
	_ = t.finish(ctx, "ROLLBACK")
}

func (t *transaction) finish(ctx context.Context, verb string) error {
	var first error
	for _, key := range t.order {
		sc := t.conns[key]
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
	t.conns, t.order = nil, nil
	return first
}

func (s *session) begin(ctx context.Context) error {
	if s.tx != nil {
		// BEGIN inside a transaction commits it first, as in MySQL.
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
	s.tx = s.newTransaction()
	return nil
}

// newTransaction starts the session's next transaction, which takes the
// one-shot isolation level if one was set.
func (s *session) newTransaction() *transaction {
	tx := newTransaction(s.nextTxIsolation)
	s.nextTxIsolation = ""
	return tx
}

func (s *session) commit(ctx context.Context) error {
	if s.tx == nil {
		return nil
	}
	tx := s.tx
	s.tx = nil
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
