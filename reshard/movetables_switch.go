package reshard

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// switchMovedReads is SwitchReads for a movetables workflow: the share
// goes into the routing rules of its tables (the sessions whose draw is
// below it plan their plain reads of the tables in the target keyspace),
// then into the workflow.
func switchMovedReads(ctx context.Context, store *topo.Store, w *topo.Workflow, per10000 int) (*topo.Workflow, error) {
	if err := setMoveRules(ctx, store, w, moveRules(w, w.MoveTables.External == nil, false, per10000)); err != nil {
		return nil, err
	}
	err := store.UpdateWorkflow(ctx, w.Keyspace, w.Name, func(w *topo.Workflow) error {
		if err := canSwitchReads(w); err != nil {
			return err
		}
		w.ReadPer10000 = per10000
		w.State = topo.WorkflowRunning
		if per10000 == topo.ReadSwitchScale {
			w.State = topo.WorkflowReadsSwitched
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return store.GetWorkflow(ctx, w.Keyspace, w.Name)
}

// MoveSwitchConfig bounds a movetables write switch.
type MoveSwitchConfig struct {
	Store *topo.Store
	// Conn is how to log in to the primaries.
	Conn tablet.ConnConfig
	// AckTimeout bounds the wait for every gateway to acknowledge the
	// hold; CatchUpTimeout the wait for catch-up to apply the sources'
	// last writes. Defaults 10s and 10s.
	AckTimeout, CatchUpTimeout time.Duration
	// Drain is how long a gateway waits for statements in flight before
	// acknowledging; default 2s.
	Drain  time.Duration
	Logger *slog.Logger
}

func (c *MoveSwitchConfig) defaults() {
	if c.AckTimeout <= 0 {
		c.AckTimeout = 10 * time.Second
	}
	if c.CatchUpTimeout <= 0 {
		c.CatchUpTimeout = 10 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// reverseName is the name of the workflow that replicates a movetables'
// target back into its source once writes are switched.
func reverseName(workflow string) string { return workflow + "_reverse" }

// SwitchMovedWrites switches a movetables workflow's writes (and all its
// reads) to the target keyspace without losing a write:
//
//  1. a keyspace source: every gateway holds new statements for the
//     source keyspace's shards (topo.Hold), drains those in flight and
//     acknowledges; a gateway that doesn't within AckTimeout aborts the
//     switch (the hold is released, writes go on to the source). An
//     external source is made read-only instead (SET GLOBAL read_only:
//     its applications' writes fail from here on and move to the
//     gateway);
//  2. transactions left open on the source primaries are cut (their
//     clients get an error, never an OK for a write the target lacks),
//     prepared XA branches are waited for; then each source primary's
//     binlog position is read and catch-up applies up to it on every
//     target;
//  3. a reverse workflow is recorded (keyspace sources): from the targets'
//     positions now, the controller replicates the moved tables back into
//     the source, so that reverse-traffic finds it current;
//  4. the routing rules send every name of the tables to the target
//     keyspace, and the workflow is in state writes-switched (its forward
//     catch-up stops);
//  5. the hold is released: the held statements are planned again by
//     the gateways (a plan made before the switch is refused with a
//     retryable error rather than run on the source).
//
// It returns the longest write stall: from the hold to its release.
func SwitchMovedWrites(ctx context.Context, cfg MoveSwitchConfig, keyspace, workflow string) (*topo.Workflow, time.Duration, error) {
	cfg.defaults()
	store := cfg.Store
	w, err := store.GetWorkflow(ctx, keyspace, workflow)
	if err != nil {
		return nil, 0, err
	}
	if w.MoveTables == nil || w.MoveTables.ReverseOf != "" {
		return nil, 0, fmt.Errorf("workflow %s/%s is not a movetables workflow: %w", keyspace, workflow, ErrInvalid)
	}
	if !catchesUp(w.State) {
		return nil, 0, fmt.Errorf("workflow %s/%s is in state %s: writes switch once copied (running or reads-switched): %w", keyspace, workflow, w.State, ErrInvalid)
	}
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return nil, 0, err
	}
	wc := &workflowCopy{wf: w, sources: map[string]string{}}
	if err := wc.resolve(snap, w.SourceShards); err != nil {
		return nil, 0, err
	}
	mt := w.MoveTables
	start := time.Now()
	sw := &moveSwitch{cfg: cfg, w: w, wc: wc}
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
	if err := waitApplied(ctx, cfg, w.Keyspace, w.Name, wc.targets, positions, cfg.CatchUpTimeout); err != nil {
		return nil, 0, err
	}
	if mt.External == nil {
		if err := createReverse(ctx, cfg, w, wc); err != nil {
			return nil, 0, err
		}
	}
	if err := setMoveRules(ctx, store, w, moveRules(w, mt.External == nil, true, 0)); err != nil {
		sw.dropReverse(ctx)
		return nil, 0, err
	}
	switched = true
	err = store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		w.State, w.ReadPer10000, w.Error = topo.WorkflowWritesSwitched, 0, ""
		if mt.External == nil {
			w.MoveTables.Reverse = reverseName(w.Name)
		}
		return nil
	})
	stall := sw.release(ctx, start)
	if err != nil {
		return nil, stall, err
	}
	if err := recordStall(ctx, store, keyspace, workflow, stall); err != nil {
		return nil, stall, err
	}
	cfg.Logger.Info("reshard: movetables writes switched", "workflow", keyspace+"/"+workflow, "stall", stall)
	w, err = store.GetWorkflow(ctx, keyspace, workflow)
	return w, stall, err
}

// recordStall keeps the longest write stall in the workflow record.
func recordStall(ctx context.Context, store *topo.Store, keyspace, workflow string, stall time.Duration) error {
	return store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		if w.MoveTables.MaxWriteStallSeconds >= stall.Seconds() {
			return topo.ErrNoUpdateNeeded
		}
		w.MoveTables.MaxWriteStallSeconds = stall.Seconds()
		return nil
	})
}
