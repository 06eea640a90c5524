package failover

import (
	"context"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/sqlquote"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// fenceRetry is how long a drained tablet whose fencing failed (its
// replication would not run) is left alone before another attempt.
const fenceRetry = 5 * time.Second

// fence fences the drained tablets of the snapshot that answer again.
func (d *detector) fence(ctx context.Context, snap *topo.Snapshot) {
	for _, t := range snap.Tablets {
		if t.Type != topo.TabletDrained || time.Now().Before(d.fenceAt[t.Alias]) {
			continue
		}
		if err := d.c.probe(ctx, t); err != nil {
			// Still down: look again in a moment, without holding up
			// every pass if it hangs.
			d.fenceAt[t.Alias] = time.Now().Add(2 * d.c.cfg.CheckInterval)
			continue
		}
		if err := d.c.fenceTablet(ctx, t.Alias); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.c.log.Error("failover: fencing a former primary failed; it stays drained", "tablet", t.Alias, "err", err, "retry_in", fenceRetry)
			d.fenceAt[t.Alias] = time.Now().Add(fenceRetry)
			continue
		}
		delete(d.fenceAt, t.Alias)
	}
}

// fenceTablet makes a drained tablet that answers read-only and a replica
// of its shard's primary, and types it replica once its replication runs.
func (c *Controller) fenceTablet(ctx context.Context, alias topo.TabletAlias) error {
	return c.underShardLock(ctx, alias, func(ctx context.Context, sh *topo.Shard, tablets []*topo.Tablet, t *topo.Tablet) error {
		if t == nil || t.Type != topo.TabletDrained {
			return nil // changed meanwhile
		}
		if sh == nil || sh.PrimaryAlias == nil || *sh.PrimaryAlias == alias {
			return fmt.Errorf("shard %s/%s names no other primary to follow", t.Keyspace, t.Shard)
		}
		primary := findTablet(tablets, *sh.PrimaryAlias)
		if primary == nil || primary.Type != topo.TabletPrimary {
			return fmt.Errorf("shard %s/%s: its primary %s is not a primary tablet yet", t.Keyspace, t.Shard, *sh.PrimaryAlias)
		}
		conn, err := c.dial(ctx, t)
		if err != nil {
			return err
		}
		defer conn.Close()
		// A replica never waits for acknowledgements (its applier would
		// stall). This also releases the commits a frozen and resumed primary
		// still waits on (no gateway talks to it any more to hear of them),
		// which must come first: SET GLOBAL read_only waits for commits in
		// progress, and those would wait for an acknowledgement forever.
		if err := tablet.SetSemiSync(ctx, conn, false); err != nil {
			return err
		}
		// Then read-only, on its own: the step that must happen even if the
		// rest fails.
		if err := tablet.SetReadOnly(ctx, conn, true); err != nil {
			return err
		}
		c.log.Warn("failover: former primary is back: read-only, now following the new primary", "tablet", alias, "primary", primary.Alias)
		// It must apply what the new primary has now, which it can't if it
		// kept a transaction the new primary lacks (its SQL thread then
		// stops on the first conflicting GTID, not at START SLAVE).
		if err := c.follow(ctx, conn, primary); err != nil {
			return err
		}
		err = c.cfg.Store.UpdateTablet(ctx, alias, func(t *topo.Tablet) error {
			t.Type = topo.TabletReplica
			return nil
		})
		if err != nil {
			return err
		}
		c.log.Warn("failover: former primary fenced, serving as a replica", "tablet", alias, "primary", primary.Alias)
		// The shard has a replica again: its primary waits for one's
		// acknowledgement from now on.
		if err := c.awaitReplica(ctx, primary); err != nil {
			c.log.Error("failover: the shard's primary still does not wait for its replica", "primary", primary.Alias, "err", err)
		}
		return nil
	})
}

// underShardLock runs fn under the lock of the shard of the tablet alias,
// with the shard, its tablets and the tablet (nil if gone) as they are
// once the lock is held: what was seen before it may have changed.
func (c *Controller) underShardLock(ctx context.Context, alias topo.TabletAlias,
	fn func(ctx context.Context, sh *topo.Shard, tablets []*topo.Tablet, t *topo.Tablet) error) error {
	ctx, cancel := context.WithTimeout(ctx, failoverSlack)
	defer cancel()
	t, err := c.cfg.Store.GetTablet(ctx, alias)
	if err != nil {
		return err
	}
	unlock, err := c.lockShard(ctx, t.Keyspace, t.Shard)
	if err != nil {
		return err
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = unlock(uctx)
	}()
	snap, err := c.cfg.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	sh, tablets := shardTablets(snap, t.Keyspace, t.Shard)
	return fn(ctx, sh, tablets, findTablet(tablets, alias))
}

// follow makes the instance of conn a replica of primary and waits until
// it replicates and has applied what primary had when it began.
func (c *Controller) follow(ctx context.Context, conn *tablet.Conn, primary *topo.Tablet) error {
	target, err := c.primaryPosition(ctx, primary)
	if err != nil {
		return err
	}
	src := tablet.ReplicationSource{Addr: primary.Addr(), User: c.cfg.ReplicationUser, Password: c.cfg.ReplicationPassword}
	if err := tablet.ReplicateFrom(ctx, conn, src); err != nil {
		return err
	}
	return waitReplicating(ctx, conn, target, 10*time.Second)
}

// awaitReplica makes primary wait for a replica's acknowledgement of each
// commit (semi-sync) again.
func (c *Controller) awaitReplica(ctx context.Context, primary *topo.Tablet) error {
	conn, err := c.dial(ctx, primary)
	if err != nil {
		return err
	}
	defer conn.Close()
	return tablet.SetSemiSync(ctx, conn, true)
}

// primaryPosition is @@global.gtid_binlog_pos of a primary.
func (c *Controller) primaryPosition(ctx context.Context, primary *topo.Tablet) (string, error) {
	conn, err := c.dial(ctx, primary)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	r, err := conn.Execute(ctx, "SELECT @@global.gtid_binlog_pos")
	if err != nil {
		return "", err
	}
	if len(r.Rows) != 1 {
		return "", fmt.Errorf("tablet %s: gtid_binlog_pos: got %d rows", primary.Alias, len(r.Rows))
	}
	return string(r.Rows[0][0]), nil
}

// waitReplicating waits until both replication threads of the instance
// run and it has applied target (the primary's position when it was
// pointed there), or within elapses with both still running (it lags,
// but applies). It fails if a thread stops with an error: errant
// transactions the new primary doesn't have stop the SQL thread at the
// first conflicting GTID, which may come a while after START SLAVE, so
// both threads running for a moment proves nothing.
func waitReplicating(ctx context.Context, conn *tablet.Conn, target string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		st, err := tablet.ReadReplicaStatus(ctx, conn)
		if err != nil {
			return err
		}
		if st == nil {
			return fmt.Errorf("not a replica after CHANGE MASTER TO")
		}
		running := st.IORunning && st.SQLRunning
		if running && st.LastError == "" {
			if target == "" {
				return nil
			}
			r, err := conn.Execute(ctx, "SELECT MASTER_GTID_WAIT("+string(sqlquote.Append(nil, target))+", 0.2)")
			if err != nil {
				return err
			}
			if len(r.Rows) == 1 && string(r.Rows[0][0]) == "0" {
				return nil
			}
			if time.Now().After(deadline) {
				return nil // lagging, not failing
			}
			continue
		}
		if st.LastError != "" || time.Now().After(deadline) {
			return fmt.Errorf("replication does not run (IO %v, SQL %v): %s", st.IORunning, st.SQLRunning, st.LastError)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
