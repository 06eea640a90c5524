package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/sqlquote"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// plannedReparent moves a live shard's primary to a replica without
// losing a write, under the shard's lock:
//
//  1. choose the replica (the one asked for, else the most advanced);
//  2. place a hold on the shard (topo.PlaceHold): every gateway buffers
//     its new statements there, drains those in flight and acknowledges;
//     wait for every live gateway (HoldAckTimeout);
//  3. make the old primary read-only and read its gtid_binlog_pos; the
//     replica applies up to it (MASTER_GTID_WAIT, CatchUpTimeout);
//  4. promote the replica; the old primary and the other replicas
//     replicate from it (the old primary without semi-sync waits);
//  5. the topology: the old primary's tablet becomes a replica, the shard
//     names the new one, whose tablet becomes primary;
//  6. release the hold (the buffered statements run on the new primary),
//     record the recovery ("planned reparent").
//
// A failure before step 4 undoes what was done (old primary writable
// again, hold released: buffered statements go to it) and is returned.
func (c *Controller) plannedReparent(ctx context.Context, r *Reparent) (err error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.HoldAckTimeout+c.cfg.CatchUpTimeout+failoverSlack)
	defer cancel()
	key := shardKey{r.Keyspace, r.Shard}
	unlock, err := c.lockShard(ctx, key.keyspace, key.shard)
	if err != nil {
		return err
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = unlock(uctx)
	}()
	start := time.Now()

	// 1. The shard, its primary and the replica to promote.
	snap, err := c.cfg.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	sh, tablets := shardTablets(snap, key.keyspace, key.shard)
	if sh == nil || sh.PrimaryAlias == nil {
		return fmt.Errorf("shard %s names no primary", key)
	}
	old := findTablet(tablets, *sh.PrimaryAlias)
	if old == nil || old.Type != topo.TabletPrimary {
		return fmt.Errorf("shard %s: its primary %s is not a serving primary tablet", key, *sh.PrimaryAlias)
	}
	r.OldPrimary = old.Alias.String()
	if r.NewPrimary == old.Alias.String() {
		return fmt.Errorf("shard %s: %s is already its primary", key, old.Alias)
	}
	oldConn, err := c.dial(ctx, old)
	if err != nil {
		return fmt.Errorf("shard %s: the primary does not answer (use an emergency reparent): %w", key, err)
	}
	defer oldConn.Close()
	cands := c.candidates(ctx, tablets)
	defer func() {
		for _, cd := range cands {
			cd.conn.Close()
		}
	}()
	target, err := chooseReplica(key, cands, r.NewPrimary, false)
	if err != nil {
		return err
	}
	r.Promoted = target.tablet.Alias.String()

	// 2. Hold the shard's writes in every gateway.
	hold := &topo.Hold{
		ID: r.ID, Keyspace: key.keyspace, Shards: []string{key.shard},
		Reason:   fmt.Sprintf("planned reparent %s -> %s", old.Alias, target.tablet.Alias),
		Deadline: time.Now().Add(c.cfg.HoldAckTimeout + c.cfg.CatchUpTimeout + 5*time.Second),
		Drain:    c.cfg.HoldDrain,
	}
	if err := c.cfg.Store.PlaceHold(ctx, hold); err != nil {
		return err
	}
	holdAt := time.Now()
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := c.cfg.Store.ReleaseHold(rctx, hold.ID); err != nil {
			c.log.Error("failover: release hold (gateways stop holding at its deadline)", "hold", hold.ID, "err", err)
		}
		r.Stall = time.Since(holdAt)
	}
	defer release()
	switched := false
	defer func() {
		if err == nil || switched {
			return
		}
		// Undo: the old primary takes writes again (the held ones first,
		// once the hold is released).
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if uerr := tablet.SetReadOnly(uctx, oldConn, false); uerr != nil {
			err = errors.Join(err, fmt.Errorf("old primary %s could not be made writable again: %w", old.Alias, uerr))
		}
	}()
	actx, cancelAck := context.WithTimeout(ctx, c.cfg.HoldAckTimeout)
	acked, err := c.cfg.Store.AwaitAcks(actx, hold)
	cancelAck()
	if err != nil {
		return fmt.Errorf("shard %s: %w", key, err)
	}
	c.log.Info("failover: planned reparent: gateways hold the shard's writes", "shard", key, "acked", acked)

	// 3. Old primary read-only; the replica catches up with it.
	if err := tablet.SetReadOnly(ctx, oldConn, true); err != nil {
		return fmt.Errorf("shard %s: make the old primary read-only: %w", key, err)
	}
	// read_only does not stop accounts with SUPER or READ ONLY ADMIN (a
	// gateway logging in as root): cut every client connection left, so
	// that a transaction a gateway could not drain in time cannot commit
	// after the position is read. Its client gets an error, never an OK
	// for a write the new primary lacks.
	if n, err := c.killClients(ctx, oldConn); err != nil {
		return fmt.Errorf("shard %s: cut the old primary's client connections: %w", key, err)
	} else if n > 0 {
		c.log.Warn("failover: planned reparent: cut client connections left on the old primary", "tablet", old.Alias, "connections", n)
	}
	pos, err := binlogPosition(ctx, oldConn)
	if err != nil {
		return fmt.Errorf("shard %s: %w", key, err)
	}
	wctx, cancelWait := context.WithTimeout(ctx, c.cfg.CatchUpTimeout)
	err = tablet.WaitForGTID(wctx, target.conn, pos)
	cancelWait()
	if err != nil {
		return fmt.Errorf("shard %s: %s did not catch up with the old primary's %s: %w", key, target.tablet.Alias, pos, err)
	}

	// 4. The switch: no undo from here on.
	if err := tablet.Promote(ctx, target.conn); err != nil {
		// Put it back under the old primary before undoing.
		src := tablet.ReplicationSource{Addr: old.Addr(), User: c.cfg.ReplicationUser, Password: c.cfg.ReplicationPassword}
		if rerr := tablet.ReplicateFrom(context.WithoutCancel(ctx), target.conn, src); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return fmt.Errorf("shard %s: promote %s: %w", key, target.tablet.Alias, err)
	}
	switched = true
	src := tablet.ReplicationSource{Addr: target.tablet.Addr(), User: c.cfg.ReplicationUser, Password: c.cfg.ReplicationPassword}
	// The old primary becomes a replica: it waits for no acknowledgement
	// (its applier would stall), then follows the new primary.
	replicas := 0
	if err := tablet.SetSemiSync(ctx, oldConn, false); err != nil {
		c.log.Error("failover: planned reparent: semi-sync off on the old primary", "tablet", old.Alias, "err", err)
	}
	if err := tablet.ReplicateFrom(ctx, oldConn, src); err != nil {
		c.log.Error("failover: planned reparent: the old primary does not follow the new one", "tablet", old.Alias, "err", err)
	} else {
		replicas++
	}
	for _, cd := range cands {
		if cd == target {
			continue
		}
		if err := tablet.ReplicateFrom(ctx, cd.conn, src); err != nil {
			c.log.Error("failover: planned reparent: repoint replica", "replica", cd.tablet.Alias, "err", err)
			continue
		}
		replicas++
	}
	if err := tablet.SetSemiSync(ctx, target.conn, replicas > 0); err != nil {
		c.log.Error("failover: planned reparent: semi-sync of the new primary", "tablet", target.tablet.Alias, "err", err)
	}
	applied, _ := tablet.CurrentPosition(ctx, target.conn)

	// 5. The topology: old primary a replica, the new one named.
	if err := c.switchPrimary(ctx, key, old.Alias, target.tablet.Alias, topo.TabletReplica); err != nil {
		return err
	}

	// 6. Release, record.
	release()
	rec := &Recovery{
		Time: time.Now().UTC(), Keyspace: key.keyspace, Shard: key.shard,
		OldPrimary: old.Alias.String(), NewPrimary: target.tablet.Alias.String(),
		Reason: "planned reparent", FailedAt: start.UTC(), Duration: time.Since(start), Position: applied,
	}
	if err := Record(ctx, c.cfg.Store, rec); err != nil {
		c.log.Error("failover: record recovery", "shard", key, "err", err)
	}
	return nil
}

// chooseReplica picks the replica to promote among the reachable
// candidates: the one asked for (by alias), which must be reachable and,
// if mostAdvanced, hold everything the most advanced one does; else the
// most advanced one.
func chooseReplica(key shardKey, cands []*candidate, want string, mostAdvancedOnly bool) (*candidate, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("shard %s: no reachable replica to promote", key)
	}
	ps := make([]Position, len(cands))
	for i, cd := range cands {
		ps[i] = cd.pos
	}
	best := cands[mostAdvanced(ps)]
	if want == "" {
		return best, nil
	}
	for _, cd := range cands {
		if cd.tablet.Alias.String() != want {
			continue
		}
		if mostAdvancedOnly && !cd.pos.Covers(best.pos) {
			return nil, fmt.Errorf("shard %s: replica %s (at %s) is less advanced than %s (at %s); promote that one, or omit --new-primary",
				key, want, cd.pos, best.tablet.Alias, best.pos)
		}
		return cd, nil
	}
	return nil, fmt.Errorf("shard %s: replica %s is not reachable", key, want)
}

// killClients kills every connection on the instance but conn's own,
// replication's and the server's threads; it returns how many.
func (c *Controller) killClients(ctx context.Context, conn *tablet.Conn) (int, error) {
	res, err := conn.Execute(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()"+
		" AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker')"+
		" AND USER NOT IN ('system user', 'event_scheduler', "+string(sqlquote.Append(nil, c.cfg.ReplicationUser))+")")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range res.Rows {
		// One that ended meanwhile answers "unknown thread": fine.
		if _, err := conn.Execute(ctx, "KILL CONNECTION "+string(row[0])); err == nil {
			n++
		}
	}
	return n, nil
}

// binlogPosition is @@global.gtid_binlog_pos: everything the instance has
// written to its binlog, what its replicas must apply.
func binlogPosition(ctx context.Context, conn *tablet.Conn) (string, error) {
	res, err := conn.Execute(ctx, "SELECT @@global.gtid_binlog_pos")
	if err != nil {
		return "", fmt.Errorf("gtid_binlog_pos: %w", err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return "", fmt.Errorf("gtid_binlog_pos: got %d rows", len(res.Rows))
	}
	return string(res.Rows[0][0]), nil
}
