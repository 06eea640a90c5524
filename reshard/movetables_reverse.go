package reshard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// ReverseMovedTraffic switches a movetables workflow whose writes are
// switched back to its source keyspace, with the same buffered procedure
// as the switch: every gateway holds the target keyspace's writes,
// transactions left open on the target primaries are cut, the reverse
// workflow's catch-up applies the targets' last writes to the source,
// the forward workflow's positions on the targets are set to the
// source's position now (the two sides hold the same rows), the routing
// rules send the tables to the source again, the forward workflow goes
// back to running (its catch-up resumes) and the reverse workflow is
// removed; then the hold is released. Not for an external source: it
// can't take writes back through shardgate.
func ReverseMovedTraffic(ctx context.Context, cfg MoveSwitchConfig, keyspace, workflow string) (*topo.Workflow, time.Duration, error) {
	cfg.defaults()
	store := cfg.Store
	w, err := store.GetWorkflow(ctx, keyspace, workflow)
	if err != nil {
		return nil, 0, err
	}
	mt := w.MoveTables
	if mt == nil || mt.ReverseOf != "" {
		return nil, 0, fmt.Errorf("workflow %s/%s is not a movetables workflow: %w", keyspace, workflow, ErrInvalid)
	}
	if w.State != topo.WorkflowWritesSwitched {
		return nil, 0, fmt.Errorf("workflow %s/%s is in state %s: reverse-traffic works once writes are switched: %w", keyspace, workflow, w.State, ErrInvalid)
	}
	if mt.External != nil {
		return nil, 0, fmt.Errorf("workflow %s/%s moved tables from an external database, which shardgate can't send writes back to: %w", keyspace, workflow, ErrInvalid)
	}
	rev, err := store.GetWorkflow(ctx, mt.SourceKeyspace, mt.Reverse)
	if err != nil {
		return nil, 0, fmt.Errorf("reverse workflow: %w", err)
	}
	if !catchesUp(rev.State) {
		return nil, 0, fmt.Errorf("reverse workflow %s/%s is in state %s (%s): the source is not current: %w", rev.Keyspace, rev.Name, rev.State, rev.Error, ErrInvalid)
	}
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return nil, 0, err
	}
	// rwc: the reverse workflow's sides (its sources are w's targets).
	rwc := &workflowCopy{wf: rev, sources: map[string]string{}}
	if err := rwc.resolve(snap, rev.SourceShards); err != nil {
		return nil, 0, err
	}
	start := time.Now()
	sw := &moveSwitch{cfg: cfg, w: rev, wc: rwc}
	defer sw.close()
	if err := sw.fenceSources(ctx); err != nil {
		sw.unfence(ctx)
		return nil, 0, err
	}
	switched := false
	defer func() {
		if !switched {
			sw.unfence(ctx)
		}
	}()
	positions, err := sw.sourcePositions(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := waitApplied(ctx, cfg, rev.Keyspace, rev.Name, rwc.targets, positions, cfg.CatchUpTimeout); err != nil {
		return nil, 0, err
	}
	// The forward catch-up resumes from the source's position now.
	for _, src := range rwc.targets {
		if err := resetForward(ctx, cfg.Conn, w, src, rwc.sources); err != nil {
			return nil, 0, err
		}
	}
	if err := setMoveRules(ctx, store, w, moveRules(w, true, false, 0)); err != nil {
		return nil, 0, err
	}
	switched = true
	err = store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		w.State, w.ReadPer10000, w.MoveTables.Reverse = topo.WorkflowRunning, 0, ""
		return nil
	})
	if rerr := stopReverse(ctx, store, rev.Keyspace, rev.Name); rerr != nil {
		err = errors.Join(err, rerr)
	}
	stall := sw.release(ctx, start)
	if err != nil {
		return nil, stall, err
	}
	if err := recordStall(ctx, store, keyspace, workflow, stall); err != nil {
		return nil, stall, err
	}
	w, err = store.GetWorkflow(ctx, keyspace, workflow)
	return w, stall, err
}

// resetForward writes, on every target of w, the source shard src's
// current binlog position as the position w's catch-up has applied and
// restarts from.
func resetForward(ctx context.Context, cc tablet.ConnConfig, w *topo.Workflow, src target, targets map[string]string) error {
	sc := cc
	sc.Addr, sc.DB = src.addr, ""
	conn, err := tablet.Dial(ctx, sc)
	if err != nil {
		return fmt.Errorf("source %s: %w", src.name, err)
	}
	pos, err := binlogPositionOf(ctx, conn)
	conn.Close()
	if err != nil {
		return fmt.Errorf("source %s: %w", src.name, err)
	}
	for name, addr := range targets {
		tc, err := dialTarget(ctx, cc, addr, w.Keyspace)
		if err == nil {
			_, err = tc.Execute(ctx, positionStatement(w.Keyspace, w.Name, src.name, pos, pos))
			tc.Close()
		}
		if err != nil {
			return fmt.Errorf("target %s: reset the catch-up position: %w", name, err)
		}
	}
	return nil
}

// stopReverse stops a reverse workflow's catch-up (state cancelled, which
// the controller sees within a second) and removes its record.
func stopReverse(ctx context.Context, store *topo.Store, keyspace, name string) error {
	err := store.UpdateWorkflow(ctx, keyspace, name, func(w *topo.Workflow) error {
		w.State = topo.WorkflowCancelled
		return nil
	})
	if errors.Is(err, topo.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	return store.DeleteWorkflow(ctx, keyspace, name)
}

// CompleteMoveTables ends a movetables workflow whose writes are
// switched: reverse replication stops, the routing rules are removed (the
// tables live in the target keyspace, by their vschema), and with drop
// the tables are dropped from the source keyspace's shards. Without drop
// the source keeps its (now stale) copy: a session naming the source
// keyspace's table reads it there. The workflow is then completed.
func CompleteMoveTables(ctx context.Context, store *topo.Store, cc tablet.ConnConfig, keyspace, workflow string, drop bool) (*topo.Workflow, error) {
	w, err := store.GetWorkflow(ctx, keyspace, workflow)
	if err != nil {
		return nil, err
	}
	mt := w.MoveTables
	if mt == nil || mt.ReverseOf != "" {
		return nil, fmt.Errorf("workflow %s/%s is not a movetables workflow: %w", keyspace, workflow, ErrInvalid)
	}
	if w.State != topo.WorkflowWritesSwitched && w.State != topo.WorkflowCompleted {
		return nil, fmt.Errorf("workflow %s/%s is in state %s: complete works once writes are switched: %w", keyspace, workflow, w.State, ErrInvalid)
	}
	if drop && mt.External != nil {
		return nil, fmt.Errorf("workflow %s/%s moved tables from an external database; drop them there yourself: %w", keyspace, workflow, ErrInvalid)
	}
	if mt.Reverse != "" {
		if err := stopReverse(ctx, store, mt.SourceKeyspace, mt.Reverse); err != nil {
			return nil, err
		}
	}
	if err := removeMoveRules(ctx, store, w); err != nil {
		return nil, err
	}
	if drop {
		snap, err := store.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		shards, addrs, err := servingPrimaries(snap, mt.SourceKeyspace)
		if err != nil {
			return nil, err
		}
		for i, addr := range addrs {
			if err := dropMovedTables(ctx, cc, addr, mt.SourceKeyspace, mt.Tables); err != nil {
				return nil, fmt.Errorf("source shard %s: %w", shards[i], err)
			}
		}
	}
	err = store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		w.State, w.MoveTables.Reverse = topo.WorkflowCompleted, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return store.GetWorkflow(ctx, keyspace, workflow)
}

// CancelMoveTables stops a movetables workflow before its writes are
// switched: the workflow goes to state cancelled (the controller stops
// copying or catching up), the tables created on the target keyspace's
// shards are dropped unless keepData, and then the routing rules are
// removed (not before: until the drop, they keep the half-moved tables
// unserved).
func CancelMoveTables(ctx context.Context, store *topo.Store, cc tablet.ConnConfig, keyspace, workflow string, keepData bool) (*topo.Workflow, error) {
	err := store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		if w.MoveTables == nil || w.MoveTables.ReverseOf != "" {
			return fmt.Errorf("workflow %s/%s is not a movetables workflow: %w", keyspace, workflow, ErrInvalid)
		}
		switch w.State {
		case topo.WorkflowWritesSwitched, topo.WorkflowCompleted:
			return fmt.Errorf("workflow %s/%s is in state %s: cancel works before writes are switched (reverse-traffic first): %w", keyspace, workflow, w.State, ErrInvalid)
		case topo.WorkflowCancelled:
			return topo.ErrNoUpdateNeeded
		}
		w.State, w.ReadPer10000 = topo.WorkflowCancelled, 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	w, err := store.GetWorkflow(ctx, keyspace, workflow)
	if err != nil {
		return nil, err
	}
	// Reads switched to the target go back to the source first.
	if err := setMoveRules(ctx, store, w, moveRules(w, w.MoveTables.External == nil, false, 0)); err != nil {
		return nil, err
	}
	if !keepData {
		snap, err := store.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		wc := &workflowCopy{wf: w, sources: map[string]string{}}
		if err := wc.resolve(snap, nil); err != nil {
			return nil, err
		}
		for _, t := range wc.targets {
			if err := dropMovedTables(ctx, cc, t.addr, w.Keyspace, w.MoveTables.Tables); err != nil {
				return nil, fmt.Errorf("target shard %s: %w", t.name, err)
			}
		}
	}
	if err := removeMoveRules(ctx, store, w); err != nil {
		return nil, err
	}
	return w, nil
}

// dropMovedTables drops the named tables of database db on one instance.
func dropMovedTables(ctx context.Context, cc tablet.ConnConfig, addr, db string, tables []string) error {
	cc.Addr, cc.DB = addr, db
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, t := range tables {
		if _, err := conn.Execute(ctx, "DROP TABLE IF EXISTS "+quoteIdent(t)); err != nil {
			return fmt.Errorf("drop table %q: %w", t, err)
		}
	}
	return nil
}
