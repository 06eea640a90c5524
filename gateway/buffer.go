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

	// holds are the holds in force, replaced whole by install; nil (the
	// common case) costs primary one atomic load.
	holds atomic.Pointer[[]*topo.Hold]

	// passing counts, per shard, the statements that found it not held
	// and are getting a connection to its primary: a hold's drain waits
	// for them as for connections in use, so none slips past a hold
	// between the check and the pool. Entries are never removed (one per
	// shard ever used). A map under a read lock rather than a sync.Map:
	// its struct key would be boxed, an allocation per statement.
	passingMu sync.RWMutex
	passing   map[shardKey]*atomic.Int64

	mu sync.Mutex
	// changed is closed, and replaced, whenever the routing or the holds
	// change: every waiter looks again.
	changed chan struct{}
	waiting int
	// active are the holds in etcd by id; released, those removed from
	// etcd at a revision the routing has not reached yet: they still hold
	// (the holder names the new primary before releasing, and the
	// released statements must not go to the old one). routingRev is the
	// revision of the routing installed last.
	active     map[string]*topo.Hold
	released   map[string]releasedHold
	routingRev int64

	held      atomic.Int64 // statements waiting now
	releases  atomic.Uint64
	timeouts  atomic.Uint64
	overflows atomic.Uint64
}

type releasedHold struct {
	hold *topo.Hold
	rev  int64
}

func newBuffer(window time.Duration, max int) *buffer {
	if window <= 0 {
		window = DefaultBufferWindow
	}
	if max <= 0 {
		max = DefaultBufferMaxStatements
	}
	return &buffer{window: window, max: max, changed: make(chan struct{}), active: map[string]*topo.Hold{}, released: map[string]releasedHold{}, passing: map[shardKey]*atomic.Int64{}}
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
	return BufferStats{Held: b.held.Load(), Released: b.releases.Load(), Timeouts: b.timeouts.Load(), Overflows: b.overflows.Load()}
}

// notify wakes every held statement to look at the routing and holds again.
func (b *buffer) notify() {
	b.mu.Lock()
	b.notifyLocked()
	b.mu.Unlock()
}

func (b *buffer) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// routed is called after the routing of revision rev is installed: holds
// released at or before rev stop holding, and every held statement looks
// again.
func (b *buffer) routed(rev int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.routingRev = rev
	for id, rh := range b.released {
		if rh.rev <= rev {
			delete(b.released, id)
		}
	}
	b.install()
}

// setHolds takes the holds etcd has at revision rev. A hold that is gone
// goes on holding until the routing reaches rev (see released); each
// hold wakes the held statements again at its deadline, when it stops
// holding.
func (b *buffer) setHolds(holds []*topo.Hold, rev int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	next := map[string]*topo.Hold{}
	for _, h := range holds {
		if d := h.Deadline.Sub(now); d > 0 {
			next[h.ID] = h
			if b.active[h.ID] == nil {
				time.AfterFunc(d+time.Millisecond, b.notify)
			}
		}
	}
	for id, h := range b.active {
		if next[id] == nil && rev > b.routingRev {
			b.released[id] = releasedHold{hold: h, rev: rev}
		}
	}
	b.active = next
	b.install()
}

// install publishes the holds in force (b.mu held) and wakes the waiters.
func (b *buffer) install() {
	var in []*topo.Hold
	for _, h := range b.active {
		in = append(in, h)
	}
	for _, rh := range b.released {
		in = append(in, rh.hold)
	}
	if len(in) == 0 {
		b.holds.Store(nil)
	} else {
		b.holds.Store(&in)
	}
	b.notifyLocked()
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

// passingOn is the shard's count of statements passing (see passing).
func (b *buffer) passingOn(k shardKey) *atomic.Int64 {
	b.passingMu.RLock()
	c := b.passing[k]
	b.passingMu.RUnlock()
	if c != nil {
		return c
	}
	b.passingMu.Lock()
	defer b.passingMu.Unlock()
	if c = b.passing[k]; c == nil {
		c = new(atomic.Int64)
		b.passing[k] = c
	}
	return c
}

// pass counts the caller as passing on the shard if no hold covers it,
// and tells whether it may go on. The count must be taken before the
// look at the holds: a hold's drain, which reads the count after
// installing the hold, then sees every statement that did not see it.
func (b *buffer) pass(passing *atomic.Int64, keyspace, shard string) bool {
	passing.Add(1)
	if b.isHeld(keyspace, shard) {
		passing.Add(-1)
		return false
	}
	return true
}

// primary returns the pool of the shard's serving primary in r or, if it
// has none or is held, waits for one in the routing current returns.
// waited is how long it held the caller. On success the caller counts as
// passing on the shard (passing) until it has its connection from the
// pool; it then calls passing.Add(-1). The statement's context ends the
// wait as it ends a running statement.
func (b *buffer) primary(ctx context.Context, r *routing, current func() *routing, keyspace, shard string) (pool *tablet.Pool, passing *atomic.Int64, waited time.Duration, err error) {
	passing = b.passingOn(shardKey{keyspace, shard})
	if b.pass(passing, keyspace, shard) {
		if pool := r.primaryPool(keyspace, shard); pool != nil {
			if moved(r, current(), keyspace, shard) {
				passing.Add(-1)
				return nil, nil, 0, shardMovedError(keyspace, shard)
			}
			return pool, passing, 0, nil
		}
		passing.Add(-1)
	}
	pool, waited, err = b.wait(ctx, current, passing, keyspace, shard)
	if err == nil && moved(r, current(), keyspace, shard) {
		// A resharding write switch moved the keyspace off this shard
		// while the statement waited (buffer_reroute.go).
		passing.Add(-1)
		return nil, nil, waited, shardMovedError(keyspace, shard)
	}
	return pool, passing, waited, err
}

// wait holds the caller until the shard has a serving primary and no hold;
// see primary.
func (b *buffer) wait(ctx context.Context, current func() *routing, passing *atomic.Int64, keyspace, shard string) (pool *tablet.Pool, waited time.Duration, err error) {
	r := current()
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
		if b.pass(passing, keyspace, shard) {
			if pool := current().primaryPool(keyspace, shard); pool != nil {
				b.releases.Add(1)
				return pool, time.Since(start), nil
			}
			passing.Add(-1)
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
