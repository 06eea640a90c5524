package reshard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shardgate/shardgate/topo"
)

// Cancel stops a workflow before any write switch and removes its
// targets, as `shardctl reshard cancel` does:
//
//  1. the workflow goes to state cancelled: the runner stops working on
//     it (a copy stops at its next chunk, whose progress it may no longer
//     save);
//  2. the read switch it set, if any, is removed from the serving graph,
//     so every gateway reads from the sources again; Cancel then waits
//     cancelReadDrain for reads under way on the targets to finish;
//  3. the target shards' tablets and the target shards are deleted from
//     the topology. Their MySQL data is left as it is (under `shardgate
//     up`, the local instances started for them are stopped).
//
// cancelReadDrain is how long Cancel waits between taking reads back
// from the targets and removing them.
const cancelReadDrain = 2 * time.Second

// A cancelled workflow can be cancelled again: the steps left undone by
// an interrupted cancel are done. Writes-switched and completed
// workflows can't be cancelled (reverse-traffic is the way back).
func Cancel(ctx context.Context, store *topo.Store, keyspace, workflow string) (*topo.Workflow, error) {
	err := store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		if w.MoveTables != nil {
			// Its targets are a serving keyspace's shards: never removed.
			return fmt.Errorf("workflow %s/%s is a movetables workflow: cancel it with shardctl movetables cancel: %w", keyspace, workflow, ErrInvalid)
		}
		switch w.State {
		case topo.WorkflowWritesSwitched, topo.WorkflowCompleted:
			return fmt.Errorf("workflow %s/%s is in state %s: cancel works before writes are switched: %w", keyspace, workflow, w.State, ErrInvalid)
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
	cleared, err := clearReadSwitchOwned(ctx, store, keyspace, workflow)
	if err != nil {
		return nil, err
	}
	if cleared {
		// The gateways apply the change within ~100 ms; reads that
		// started on the targets before it finish before their tablets
		// leave the topology (a gateway cuts the connections of a
		// primary that leaves).
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cancelReadDrain):
		}
	}
	if err := removeTargets(ctx, store, w); err != nil {
		return nil, err
	}
	return w, nil
}

// removeTargets deletes the tablets and shards of w's targets that don't
// serve and are not also sources; the serving graph is rebuilt after.
func removeTargets(ctx context.Context, store *topo.Store, w *topo.Workflow) error {
	tablets, err := store.ListTablets(ctx)
	if err != nil {
		return err
	}
	for _, name := range w.TargetShards {
		if slices.Contains(w.SourceShards, name) {
			continue
		}
		sh, err := store.GetShard(ctx, w.Keyspace, name)
		if errors.Is(err, topo.ErrNoNode) {
			continue // removed by an earlier cancel
		}
		if err != nil {
			return err
		}
		if sh.Serving {
			return fmt.Errorf("target shard %s/%s serves traffic; not removing it: %w", w.Keyspace, name, ErrInvalid)
		}
		for _, t := range tablets {
			if t.Keyspace != w.Keyspace || t.Shard != name {
				continue
			}
			if err := store.DeleteTablet(ctx, t.Alias); err != nil && !errors.Is(err, topo.ErrNoNode) {
				return err
			}
		}
		if err := store.DeleteShard(ctx, w.Keyspace, name); err != nil && !errors.Is(err, topo.ErrNoNode) {
			return err
		}
	}
	return store.RebuildSrvKeyspace(ctx, w.Keyspace)
}
