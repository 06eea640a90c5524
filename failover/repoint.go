package failover

import (
	"context"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// repointEvery is how often the replicas' sources are checked.
const repointEvery = 5 * time.Second

// repointStrays makes each replica that follows something other than its
// shard's primary follow the primary: a replica that could not be reached
// when a failover repointed the others (frozen, cut off) comes back still
// following the old primary, which is dead or fenced, and would never
// apply another write. At most every repointEvery.
func (d *detector) repointStrays(ctx context.Context, snap *topo.Snapshot) {
	if time.Since(d.lastRepoint) < repointEvery {
		return
	}
	d.lastRepoint = time.Now()
	for ks, shards := range snap.Shards {
		for _, sh := range shards {
			if sh.PrimaryAlias == nil {
				continue
			}
			_, tablets := shardTablets(snap, ks, sh.Name)
			primary := findTablet(tablets, *sh.PrimaryAlias)
			if primary == nil || primary.Type != topo.TabletPrimary {
				continue // a failover is under way
			}
			for _, t := range tablets {
				if t.Type != topo.TabletReplica || !d.c.strays(ctx, t, primary) {
					continue
				}
				if err := d.c.repoint(ctx, t.Alias); err != nil && ctx.Err() == nil {
					d.c.log.Error("failover: repointing a replica that follows another instance than its primary", "tablet", t.Alias, "err", err)
				}
			}
		}
	}
}

// strays tells whether a replica answers and follows something other
// than primary. One that doesn't answer is left for a later pass.
func (c *Controller) strays(ctx context.Context, t, primary *topo.Tablet) bool {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.checkTimeout())
	defer cancel()
	conn, err := c.dial(ctx, t)
	if err != nil {
		return false
	}
	defer conn.Close()
	st, err := tablet.ReadReplicaStatus(ctx, conn)
	return err == nil && st != nil && st.SourceAddr != primary.Addr()
}

// repoint, under the shard's lock and after looking again, makes a
// replica follow its shard's primary, which then waits for a replica's
// acknowledgement again (it may have had none left after the failover).
func (c *Controller) repoint(ctx context.Context, alias topo.TabletAlias) error {
	return c.underShardLock(ctx, alias, func(ctx context.Context, sh *topo.Shard, tablets []*topo.Tablet, t *topo.Tablet) error {
		if sh == nil || sh.PrimaryAlias == nil || t == nil || t.Type != topo.TabletReplica {
			return nil // changed meanwhile
		}
		primary := findTablet(tablets, *sh.PrimaryAlias)
		if primary == nil || primary.Type != topo.TabletPrimary || !c.strays(ctx, t, primary) {
			return nil
		}
		conn, err := c.dial(ctx, t)
		if err != nil {
			return err
		}
		defer conn.Close()
		if err := c.follow(ctx, conn, primary); err != nil {
			return fmt.Errorf("after repointing to %s: %w", primary.Alias, err)
		}
		c.log.Warn("failover: replica followed another instance than its primary; repointed", "tablet", alias, "primary", primary.Alias)
		return c.awaitReplica(ctx, primary)
	})
}
