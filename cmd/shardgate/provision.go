package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo"
)

// provisioner is `shardgate up`'s part of resharding: `shardctl reshard
// create` names target shards that have no instances (the CLI only
// writes etcd), and the provisioner, in the process that owns the local
// mariadbds, starts a primary and the cluster's number of replicas for
// each (localcluster.AddShard: data under up's data dir, started again
// by the next `up`), then copies the schema (reshard.PrepareTargets), and
// the controller's copy begins. When such a workflow is cancelled, it
// stops the instances it started for the targets (their data stays).
type provisioner struct {
	cluster  *localcluster.Cluster
	conn     tablet.ConnConfig
	interval time.Duration
	logger   *slog.Logger
}

// start marks the topology as provisioned locally (so create accepts
// targets without tablets) and runs passes every interval until the
// returned stop is called; stop waits for the running pass to end. Call
// it before stopping the cluster.
func (p *provisioner) start(ctx context.Context) (stop func(), err error) {
	if err := p.cluster.Store.SetLocalProvisioner(ctx, p.cluster.Dir()); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			p.pass(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}

// pass provisions the targets of workflows that wait for it and retires
// those of cancelled workflows.
func (p *provisioner) pass(ctx context.Context) {
	store := p.cluster.Store
	wfs, err := store.ListWorkflows(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.logger.Warn("provisioner: list workflows", "err", err)
		}
		return
	}
	for _, w := range wfs {
		if ctx.Err() != nil {
			return
		}
		switch {
		case w.State == topo.WorkflowCopying && w.ProvisionTargets:
			if err := p.provision(ctx, w); err != nil && ctx.Err() == nil {
				p.logger.Warn("provisioner: start targets", "workflow", w.Keyspace+"/"+w.Name, "err", err)
				p.noteError(ctx, w, err)
			}
		case w.State == topo.WorkflowCancelled:
			for _, shard := range w.TargetShards {
				if err := p.cluster.RemoveShard(ctx, w.Keyspace, shard); err != nil {
					p.logger.Warn("provisioner: stop target", "workflow", w.Keyspace+"/"+w.Name, "shard", shard, "err", err)
				}
			}
		case w.State == topo.WorkflowCompleted && w.SourcesDropped:
			// `complete --drop`: the sources' instances that up started
			// (targets of an earlier workflow) stop.
			for _, shard := range w.SourceShards {
				if err := p.cluster.RemoveShard(ctx, w.Keyspace, shard); err != nil {
					p.logger.Warn("provisioner: stop source", "workflow", w.Keyspace+"/"+w.Name, "shard", shard, "err", err)
				}
			}
		}
	}
}

func (p *provisioner) provision(ctx context.Context, w *topo.Workflow) error {
	for _, shard := range w.TargetShards {
		sh, err := p.cluster.Store.GetShard(ctx, w.Keyspace, shard)
		if err != nil {
			return err
		}
		if sh.PrimaryAlias != nil {
			continue
		}
		start := time.Now()
		if err := p.cluster.AddShard(ctx, w.Keyspace, shard); err != nil {
			return err
		}
		p.logger.Info("provisioner: started target", "workflow", w.Keyspace+"/"+w.Name, "shard", shard, "took", time.Since(start))
	}
	return reshard.PrepareTargets(ctx, p.cluster.Store, p.conn, w.Keyspace, w.Name)
}

// noteError shows a failed pass in `reshard status` (the next pass
// retries).
func (p *provisioner) noteError(ctx context.Context, w *topo.Workflow, cause error) {
	_ = p.cluster.Store.UpdateWorkflow(ctx, w.Keyspace, w.Name, func(w *topo.Workflow) error {
		if w.State != topo.WorkflowCopying || !w.ProvisionTargets {
			return topo.ErrNoUpdateNeeded
		}
		w.Error = "starting the targets: " + cause.Error()
		return nil
	})
}
