package reshard

import (
	"context"
	"fmt"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// PrepareTargets finishes what Create left to the local provisioner of a
// workflow recorded with ProvisionTargets: once the provisioner has
// started and registered a primary for every target, it copies the
// schema (and reference rows) to them and clears the flag, and the
// Runner's copy starts. It does nothing for a workflow without the flag
// or no longer copying.
func PrepareTargets(ctx context.Context, store *topo.Store, cc tablet.ConnConfig, keyspace, workflow string) error {
	w, err := store.GetWorkflow(ctx, keyspace, workflow)
	if err != nil {
		return err
	}
	if !w.ProvisionTargets || w.State != topo.WorkflowCopying {
		return nil
	}
	addrOf := func(name string) (string, error) {
		sh, err := store.GetShard(ctx, keyspace, name)
		if err != nil {
			return "", err
		}
		return primaryAddr(ctx, store, sh)
	}
	source, err := addrOf(w.SourceShards[0])
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	var targets []string
	for _, name := range w.TargetShards {
		addr, err := addrOf(name)
		if err != nil {
			return fmt.Errorf("target: %w", err)
		}
		targets = append(targets, addr)
	}
	split, reference, err := sourceTables(ctx, store, cc, keyspace, source)
	if err != nil {
		return err
	}
	if err := copySchema(ctx, cc, keyspace, source, targets, split, reference); err != nil {
		return err
	}
	return store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		if !w.ProvisionTargets {
			return topo.ErrNoUpdateNeeded
		}
		w.ProvisionTargets = false
		return nil
	})
}
