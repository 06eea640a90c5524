package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// Buffering defaults (Config.BufferWindow, Config.BufferMaxStatements).
const (
	DefaultBufferWindow        = 10 * time.Second
	DefaultBufferMaxStatements = 1000
)

// buffer holds statements for a shard that has no serving primary: the
// topology names none, names one that is not (yet) a primary tablet
// (drained by a failover, mid-reparent), or the shard is under a hold
// (topo.Hold: a planned reparent, a resharding write switch). A held
// statement waits, sending nothing, until the topology names a serving
// primary and no hold covers the shard, then runs there; past window, or
// when max statements already wait, it fails with a retryable
// (Unavailable) error. It holds no row data: a waiting statement is one
// goroutine parked on the changed channel.
//
// One per gateway. notify is called by the topology and hold watches; any
// session goroutine calls primary.
type buffer struct {
	window time.Duration
	max    int

	// holds are the holds in force, replaced whole by setHolds; nil (the
	// common case) costs primary one atomic load.
	holds atomic.Pointer[[]*topo.Hold]

	mu sync.Mutex
	// changed is closed, and replaced, whenever the routing or the holds
	// change: every waiter looks again.
	changed chan struct{}
	waiting int

	held      atomic.Int64 // statements waiting now
	released  atomic.Uint64
	timeouts  atomic.Uint64
	overflows atomic.Uint64
}

func newBuffer(window time.Duration, max int) *buffer {
	if window <= 0 {
		window = DefaultBufferWindow
	}
	if max <= 0 {
		max = DefaultBufferMaxStatements
	}
	return &buffer{window: window, max: max, changed: make(chan struct{})}
}

// BufferStats are a gateway's buffering counters (Prometheus names in
// brackets, for whoever exports them).
type BufferStats struct {
	// Held is how many statements wait now (buffer_held).
	Held int64
	// Released counts the statements that waited and then ran on a
	// primary (buffer_released).
	Released uint64
	// Timeouts counts those that waited a whole window (buffer_timeouts).
	Timeouts uint64
	// Overflows counts those refused because the buffer was full
	// (buffer_overflows).
	Overflows uint64
}

// BufferStats returns the gateway's buffering counters.
func (s *Server) BufferStats() BufferStats {
	b := s.buffer
	return BufferStats{Held: b.held.Load(), Released: b.released.Load(), Timeouts: b.timeouts.Load(), Overflows: b.overflows.Load()}
}

// notify wakes every held statement to look at the routing and holds again.
func (b *buffer) notify() {
	b.mu.Lock()
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// setHolds installs the holds in force; each wakes the held statements
// again at its deadline, when it stops holding.
func (b *buffer) setHolds(holds []*topo.Hold) {
	now := time.Now()
	var active []*topo.Hold
	for _, h := range holds {
		if d := h.Deadline.Sub(now); d > 0 {
			active = append(active, h)
			time.AfterFunc(d+time.Millisecond, b.notify)
		}
	}
	if len(active) == 0 {
		b.holds.Store(nil)
	} else {
		b.holds.Store(&active)
	}
	b.notify()
}

// isHeld tells whether a hold covers the shard now.
func (b *buffer) isHeld(keyspace, shard string) bool {
	hp := b.holds.Load()
	if hp == nil {
		return false
	}
	now := time.Now()
	for _, h := range *hp {
		if h.Holds(keyspace, shard, now) {
			return true
		}
	}
	return false
}

// primary returns the pool of the shard's serving primary in r or, if it
// has none or is held, waits for one in the routing current returns and
// returns it with that routing. waited is how long it held the caller.
// The statement's context ends the wait as it ends a running statement.
func (b *buffer) primary(ctx context.Context, r *routing, current func() *routing, keyspace, shard string) (pool *tablet.Pool, waited time.Duration, err error) {
	if !b.isHeld(keyspace, shard) {
		if pool := r.primaryPool(keyspace, shard); pool != nil {
			return pool, 0, nil
		}
	}
	if r.snap == nil || r.snap.Keyspaces[keyspace] == nil {
		return nil, 0, sqlerror.New(sqlerror.User, mysql.ER_BAD_DB_ERROR, "Unknown database '%s'", keyspace)
	}
	b.mu.Lock()
	if b.waiting >= b.max {
		b.mu.Unlock()
		b.overflows.Add(1)
		return nil, 0, sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR,
			"shard %s/%s has no serving primary (buffer full: %d statements already held)", keyspace, shard, b.max)
	}
	b.waiting++
	b.mu.Unlock()
	b.held.Add(1)
	start := time.Now()
	defer func() {
		b.mu.Lock()
		b.waiting--
		b.mu.Unlock()
		b.held.Add(-1)
	}()
	timer := time.NewTimer(b.window)
	defer timer.Stop()
	for {
		// Take the channel before looking, so a change made after the
		// look still wakes this waiter.
		b.mu.Lock()
		changed := b.changed
		b.mu.Unlock()
		if !b.isHeld(keyspace, shard) {
			if pool := current().primaryPool(keyspace, shard); pool != nil {
				b.released.Add(1)
				return pool, time.Since(start), nil
			}
		}
		select {
		case <-changed:
		case <-timer.C:
			b.timeouts.Add(1)
			return nil, time.Since(start), sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR,
				"shard %s/%s has no serving primary (buffering timed out after %s)", keyspace, shard, b.window)
		case <-ctx.Done():
			return nil, time.Since(start), ctx.Err()
		}
	}
}

// primaryPool is the pool of the shard's serving primary, nil if none.
func (r *routing) primaryPool(keyspace, shard string) *tablet.Pool {
	pools := r.tablets[topo.TabletPrimary][shardKey{keyspace, shard}]
	if len(pools) == 0 {
		return nil
	}
	return pools[0]
}
