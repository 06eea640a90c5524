package reshard

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// moveSwitch is one write switch (or reverse) of a movetables workflow
// under way: the fence on the side writes leave, and connections to that
// side's primaries.
type moveSwitch struct {
	cfg MoveSwitchConfig
	w   *topo.Workflow
	wc  *workflowCopy
	// hold is the gateways' hold on the side writes leave (nil for an
	// external source, fenced with read_only instead).
	hold  *topo.Hold
	conns map[string]*tablet.Conn // by shard of the side writes leave
	// readOnly: the external source was made read-only by this switch.
	readOnly bool
}

func (sw *moveSwitch) close() {
	for _, c := range sw.conns {
		c.Close()
	}
}

// fenceSources stops writes to the sources: see SwitchMovedWrites, steps
// 1 and 2 (up to the positions).
func (sw *moveSwitch) fenceSources(ctx context.Context) error {
	sw.conns = map[string]*tablet.Conn{}
	for shard, addr := range sw.wc.sources {
		c, err := tablet.Dial(ctx, sourceLogin(sw.cfg.Conn, sw.w, addr))
		if err != nil {
			return fmt.Errorf("source %s: %w", shard, err)
		}
		sw.conns[shard] = c
	}
	if mt := sw.w.MoveTables; mt.External != nil {
		c := sw.conns[externalShard]
		if err := tablet.SetReadOnly(ctx, c, true); err != nil {
			return fmt.Errorf("external source %s: %w", mt.External.Address, err)
		}
		sw.readOnly = true
	} else {
		if err := sw.placeHold(ctx, mt.SourceKeyspace, sw.w.SourceShards); err != nil {
			return err
		}
	}
	return sw.settle(ctx)
}

// placeHold asks every gateway to hold statements for the shards, and
// waits for each to acknowledge (AckTimeout): ErrHoldNotAcknowledged
// aborts the switch with the hold released.
func (sw *moveSwitch) placeHold(ctx context.Context, keyspace string, shards []string) error {
	store := sw.cfg.Store
	sw.hold = &topo.Hold{
		ID:       "movetables-" + sw.w.Keyspace + "-" + sw.w.Name + "-" + strings.ToLower(rand.Text()[:8]),
		Keyspace: keyspace, Shards: shards,
		Reason:   fmt.Sprintf("movetables %s/%s write switch", sw.w.Keyspace, sw.w.Name),
		Deadline: time.Now().Add(sw.cfg.AckTimeout + sw.cfg.CatchUpTimeout + 5*time.Second),
		Drain:    sw.cfg.Drain,
	}
	if err := store.PlaceHold(ctx, sw.hold); err != nil {
		sw.hold = nil
		return err
	}
	actx, cancel := context.WithTimeout(ctx, sw.cfg.AckTimeout)
	acked, err := store.AwaitAcks(actx, sw.hold)
	cancel()
	if err != nil {
		return fmt.Errorf("the switch is aborted, writes stay where they were: %w", err)
	}
	sw.cfg.Logger.Info("reshard: movetables: gateways hold writes", "keyspace", keyspace, "shards", shards, "acked", acked)
	return nil
}

// settle cuts the transactions still open on the fenced primaries (a
// gateway acknowledges after its drain even if one is left; it must not
// commit after the position is read) and waits for prepared XA branches
// to be committed or rolled back by their coordinator.
func (sw *moveSwitch) settle(ctx context.Context) error {
	for shard, c := range sw.conns {
		res, err := c.Execute(ctx, "SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id <> CONNECTION_ID()")
		if err != nil {
			return fmt.Errorf("source %s: open transactions: %w", shard, err)
		}
		for _, row := range res.Rows {
			// One that ended meanwhile answers "unknown thread": fine.
			if _, err := c.Execute(ctx, "KILL CONNECTION "+string(row[0])); err == nil {
				sw.cfg.Logger.Warn("reshard: movetables: cut a transaction left open on a source", "shard", shard, "thread", string(row[0]))
			}
		}
		deadline := time.Now().Add(sw.cfg.Drain + 3*time.Second)
		for {
			res, err := c.Execute(ctx, "XA RECOVER")
			if err != nil {
				return fmt.Errorf("source %s: XA RECOVER: %w", shard, err)
			}
			if len(res.Rows) == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("source %s has prepared XA transactions that don't end; the switch is aborted: %w", shard, ErrInvalid)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// sourcePositions reads every fenced primary's binlog position.
func (sw *moveSwitch) sourcePositions(ctx context.Context) (map[string]position, error) {
	out := map[string]position{}
	for shard, c := range sw.conns {
		p, err := binlogPositionOf(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", shard, err)
		}
		out[shard] = p
	}
	return out, nil
}

// binlogPositionOf is an instance's @@global.gtid_binlog_pos: everything it has
// written to its binlog.
func binlogPositionOf(ctx context.Context, c *tablet.Conn) (position, error) {
	res, err := c.Execute(ctx, "SELECT @@global.gtid_binlog_pos")
	if err != nil {
		return nil, fmt.Errorf("gtid_binlog_pos: %w", err)
	}
	return parsePosition(string(res.Rows[0][0]))
}

// unfence undoes fenceSources after a failed switch: writes go on to the
// sources.
func (sw *moveSwitch) unfence(ctx context.Context) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if sw.readOnly {
		if err := tablet.SetReadOnly(uctx, sw.conns[externalShard], false); err != nil {
			sw.cfg.Logger.Error("reshard: movetables: the external source could not be made writable again", "err", err)
		}
	}
	sw.release(uctx, time.Now())
}

// release removes the hold, if any, and returns the time since start.
func (sw *moveSwitch) release(ctx context.Context, start time.Time) time.Duration {
	if sw.hold != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := sw.cfg.Store.ReleaseHold(rctx, sw.hold.ID); err != nil {
			sw.cfg.Logger.Error("reshard: movetables: release the hold (gateways stop holding at its deadline)", "hold", sw.hold.ID, "err", err)
		}
		sw.hold = nil
	}
	return time.Since(start)
}

// waitApplied waits until every target has applied, for workflow (of
// target database db), each source shard's position.
func waitApplied(ctx context.Context, cfg MoveSwitchConfig, db, workflow string, targets []target, positions map[string]position, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, t := range targets {
		conn, err := dialTarget(ctx, cfg.Conn, t.addr, db)
		if err != nil {
			return fmt.Errorf("target %s: %w", t.name, err)
		}
		err = waitTargetApplied(ctx, conn, db, workflow, positions)
		conn.Close()
		if err != nil {
			return fmt.Errorf("target %s: catch-up did not apply the sources' last writes in %v (is a controller running?): %w", t.name, timeout, err)
		}
	}
	return nil
}

func waitTargetApplied(ctx context.Context, conn *tablet.Conn, db, workflow string, positions map[string]position) error {
	for {
		done := true
		for shard, want := range positions {
			applied, _, ok, err := readPositions(ctx, conn, db, workflow, shard)
			if err != nil {
				return err
			}
			if !ok || !applied.covers(want) {
				done = false
				break
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// createReverse records the workflow that replicates the moved tables
// from the target keyspace back into the source keyspace, from the
// targets' positions now (every change of the tables on the targets so
// far came from the source).
func createReverse(ctx context.Context, cfg MoveSwitchConfig, w *topo.Workflow, wc *workflowCopy) error {
	mt := w.MoveTables
	name := reverseName(w.Name)
	if err := cfg.Store.DeleteWorkflow(ctx, mt.SourceKeyspace, name); err != nil && !errors.Is(err, topo.ErrNoNode) {
		return err
	}
	rev := &topo.Workflow{
		Keyspace: mt.SourceKeyspace, Name: name, Kind: topo.WorkflowMoveTables, State: topo.WorkflowRunning,
		SourceShards: w.TargetShards, TargetShards: w.SourceShards,
		MoveTables: &topo.MoveTables{SourceKeyspace: w.Keyspace, Tables: mt.Tables, ReverseOf: w.Name},
		Copy:       map[string]*topo.CopyProgress{},
	}
	now := time.Now().UTC()
	for _, t := range wc.targets {
		conn, err := dialTarget(ctx, cfg.Conn, t.addr, w.Keyspace)
		if err != nil {
			return fmt.Errorf("target %s: %w", t.name, err)
		}
		pos, err := binlogPositionOf(ctx, conn)
		conn.Close()
		if err != nil {
			return fmt.Errorf("target %s: %w", t.name, err)
		}
		rev.Copy[t.name] = &topo.CopyProgress{SnapshotGTID: pos.String(), Tables: mt.Tables, Started: now, Finished: now, Done: true}
	}
	// Positions an earlier reverse workflow of the same name left on the
	// source shards would make catch-up start there.
	for shard, addr := range wc.sources {
		if err := clearPositions(ctx, cfg.Conn, addr, mt.SourceKeyspace, name); err != nil {
			return fmt.Errorf("source %s: %w", shard, err)
		}
	}
	return cfg.Store.CreateWorkflow(ctx, rev)
}

// clearPositions deletes a workflow's rows from an instance's position
// table.
func clearPositions(ctx context.Context, cc tablet.ConnConfig, addr, keyspace, workflow string) error {
	cc.Addr, cc.DB = addr, ""
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := ensurePositionTable(ctx, conn); err != nil {
		return err
	}
	textField := &mysql.Field{Type: mysql.MYSQL_TYPE_VAR_STRING}
	q := []byte("DELETE FROM " + positionTable + " WHERE keyspace_name = ")
	q = appendLiteral(q, textField, []byte(keyspace))
	q = appendLiteral(append(q, " AND workflow = "...), textField, []byte(workflow))
	_, err = conn.Execute(ctx, string(q))
	return err
}

// dropReverse removes the reverse workflow createReverse recorded, after
// a switch failed past it.
func (sw *moveSwitch) dropReverse(ctx context.Context) {
	mt := sw.w.MoveTables
	if mt.External != nil {
		return
	}
	if err := sw.cfg.Store.DeleteWorkflow(context.WithoutCancel(ctx), mt.SourceKeyspace, reverseName(sw.w.Name)); err != nil && !errors.Is(err, topo.ErrNoNode) {
		sw.cfg.Logger.Error("reshard: movetables: remove the reverse workflow", "err", err)
	}
}
