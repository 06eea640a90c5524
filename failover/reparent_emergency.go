package failover

import (
	"context"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// emergency is an emergency reparent's part in a failover: the replica
// asked for (alias, "" for the most advanced), the replicas the operator
// lets it go on without and, once done, the one promoted.
type emergency struct {
	want     string
	ignore   []string
	promoted string
}

// emergencyReparent runs the failover path for the shard now, whatever
// the old primary's health (the operator presumes it dead): no
// detection interval, no damping window.
func (c *Controller) emergencyReparent(ctx context.Context, r *Reparent) error {
	snap, err := c.cfg.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	sh, _ := shardTablets(snap, r.Keyspace, r.Shard)
	if sh == nil || sh.PrimaryAlias == nil {
		return fmt.Errorf("shard %s/%s names no primary", r.Keyspace, r.Shard)
	}
	r.OldPrimary = sh.PrimaryAlias.String()
	em := &emergency{want: r.NewPrimary, ignore: r.IgnoreReplicas}
	f := &failing{primary: *sh.PrimaryAlias, since: time.Now(), reason: "emergency reparent"}
	if _, err := c.failover(ctx, shardKey{r.Keyspace, r.Shard}, f, em); err != nil {
		return err
	}
	if em.promoted == "" {
		return fmt.Errorf("shard %s/%s: its primary changed meanwhile; nothing done", r.Keyspace, r.Shard)
	}
	r.Promoted = em.promoted
	return nil
}

// fenceLive makes a primary presumed dead read-only if it answers after
// all, so that it takes no write once another is promoted (gateways
// also stop writing to it: the failover drains it). Best effort, briefly.
func (c *Controller) fenceLive(ctx context.Context, t *topo.Tablet) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.checkTimeout())
	defer cancel()
	conn, err := c.dial(ctx, t)
	if err != nil {
		return
	}
	defer conn.Close()
	// Commits waiting for an acknowledgement would hold up read_only.
	if err := tablet.SetSemiSync(ctx, conn, false); err == nil {
		err = tablet.SetReadOnly(ctx, conn, true)
		if err == nil {
			c.log.Warn("failover: emergency reparent: the old primary answers; made it read-only", "tablet", t.Alias)
		}
	}
}
