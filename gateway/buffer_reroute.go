package gateway

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"
)

// Buffering across a resharding write switch.
//
// A planned reparent changes a shard's primary; the shard stays, so a
// statement held on it runs on the new primary. A write switch changes
// which shards serve the keyspace: a statement that picked the old
// shards must not run on them after the switch (the targets would never
// see its write). Its hold is marked Reroute, and:
//
//   - a statement for the keyspace's primaries waits before it picks its
//     shards (vcursor.Shards → waitKeyspace), then picks them from the
//     routing the release is visible in: it goes to the new shards;
//   - a statement that picked its shards from a routing that a later one
//     replaced, and whose shard no longer serves there (it got past the
//     check just before the hold, or waited on the shard itself), fails
//     with errShardMoved before anything is sent to that shard; execPlan
//     runs it again, once, on the current routing when that is safe (no
//     transaction of the session; an implicit one was rolled back).
//
// A transaction that already began on the keyspace goes on where it is
// (the hold's drain waits for it; the switch cuts what is left).

// errShardMoved answers a statement whose shard stopped serving while
// it waited (class Unavailable: retrying it resolves the new shards).
var errShardMoved = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "the shard stopped serving (resharding switched its writes)")

func shardMovedError(keyspace, shard string) error {
	return sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "shard %s/%s no longer serves; retry the statement: %w", keyspace, shard, errShardMoved)
}

// keyspaceHeld tells whether a rerouting hold covers the keyspace now.
func (b *buffer) keyspaceHeld(keyspace string) bool {
	hp := b.holds.Load()
	if hp == nil {
		return false
	}
	now := time.Now()
	for _, h := range *hp {
		if h.HoldsKeyspace(keyspace, now) {
			return true
		}
	}
	return false
}

// waitKeyspace holds the caller while a rerouting hold covers the
// keyspace, bounded as wait is; waited is how long it held.
func (b *buffer) waitKeyspace(ctx context.Context, keyspace string) (waited time.Duration, err error) {
	if !b.keyspaceHeld(keyspace) {
		return 0, nil
	}
	b.mu.Lock()
	if b.waiting >= b.max {
		b.mu.Unlock()
		b.overflows.Add(1)
		return 0, sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR,
			"keyspace %s is switching its writes (buffer full: %d statements already held)", keyspace, b.max)
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
		b.mu.Lock()
		changed := b.changed
		b.mu.Unlock()
		if !b.keyspaceHeld(keyspace) {
			b.releases.Add(1)
			return time.Since(start), nil
		}
		select {
		case <-changed:
		case <-timer.C:
			b.timeouts.Add(1)
			return time.Since(start), sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR,
				"keyspace %s is switching its writes (buffering timed out after %s)", keyspace, b.window)
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		}
	}
}

// servesPrimary tells whether the shard is among the keyspace's serving
// shards for writes in r.
func (r *routing) servesPrimary(keyspace, shard string) bool {
	return slices.ContainsFunc(r.shards[topo.TabletPrimary][keyspace], func(s engine.ShardRange) bool { return s.Name == shard })
}

// moved tells whether a statement that picked the shard from routing r
// must not run there: the current routing is newer and the shard serves
// in r but no longer in it.
func moved(r, cur *routing, keyspace, shard string) bool {
	return cur != r && r.servesPrimary(keyspace, shard) && !cur.servesPrimary(keyspace, shard)
}

// holdForReroute is vcursor.Shards' wait (see above): a statement for the
// keyspace's primaries, unless its transaction already began there or it
// reads from a read switch's shards, waits while a rerouting hold covers
// the keyspace. It reports whether it waited, and then the caller picks
// shards from the current routing.
func (vc *vcursor) holdForReroute(ctx context.Context, keyspace string, draw int) (bool, error) {
	s := vc.s
	if s.tabletType != topo.TabletPrimary || s.srv == nil || s.srv.buffer == nil { // a session without a server: planner tests
		return false, nil
	}
	b := s.srv.buffer
	if b.holds.Load() == nil || !b.keyspaceHeld(keyspace) {
		return false, nil
	}
	if rs := vc.r.reads[keyspace]; rs != nil && rs.takes(s.tabletType, draw) {
		return false, nil
	}
	if tx := vc.tx(); tx != nil && tx.joinedKeyspace(keyspace) {
		return false, nil
	}
	waited, err := b.waitKeyspace(ctx, keyspace)
	if waited > 0 {
		s.stmt.buffered.Add(int64(waited))
	}
	return true, err
}

// joinedKeyspace tells whether the transaction has begun on a shard of
// the keyspace.
func (t *transaction) joinedKeyspace(keyspace string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.parts {
		if k.keyspace == keyspace {
			return true
		}
	}
	return false
}

// rerouteAgain tells whether a statement that failed with err may run
// again on the current routing: its shard moved (errShardMoved), and
// nothing of it can have stayed behind — no transaction of the session,
// and not an autocommit write of transaction_mode multi (whose shards
// commit one by one).
func (s *session) rerouteAgain(err error, plan *planner.Plan) bool {
	if err == nil || !errors.Is(err, errShardMoved) || s.tx != nil {
		return false
	}
	return !isWrite(plan.Type) || s.txMode != modeMulti
}
