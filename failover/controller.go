package failover

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/shardgate/shardgate/topo"
)

// Controller detects dead primaries and promotes replicas in their place,
// while it is the elected leader among the controllers sharing its
// topology. Create it with New; Run it on a goroutine the caller owns.
type Controller struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns a Controller; nothing runs until Run.
func New(cfg Config) (*Controller, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Controller{cfg: cfg, log: cfg.Logger}, nil
}

// Run campaigns for leadership, then checks and fails over until ctx ends
// (it then resigns) or the leadership lease is lost (it campaigns again).
// It runs on the caller's goroutine and returns once every goroutine it
// started has ended.
func (c *Controller) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := c.lead(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("failover: controller", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(c.cfg.CheckInterval):
			}
		}
	}
}

// lead campaigns and, once elected, runs the check loop until ctx ends or
// the lease is lost.
func (c *Controller) lead(ctx context.Context) error {
	sess, err := concurrency.NewSession(c.cfg.Store.Client(), concurrency.WithTTL(c.cfg.LeaseTTL), concurrency.WithContext(ctx))
	if err != nil {
		return err
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, leaderPrefix(c.cfg.Store))
	if err := el.Campaign(ctx, c.cfg.ID); err != nil {
		return err
	}
	c.log.Info("failover: controller elected", "id", c.cfg.ID)
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = el.Resign(rctx)
	}()
	// A fresh detector: a new leader measures DetectAfter from its own
	// first failed check, and reads everything else from etcd.
	d := newDetector(c)
	// Tablet health is checked on its own goroutine, so that a slow
	// replica never delays the detection of a dead primary.
	hctx, stopHealth := context.WithCancel(ctx)
	healthDone := make(chan struct{})
	go func() { defer close(healthDone); c.checkHealth(hctx) }()
	defer func() { stopHealth(); <-healthDone }()
	t := time.NewTicker(c.cfg.CheckInterval)
	defer t.Stop()
	for {
		if err := d.tick(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("failover: check pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-sess.Done():
			return errors.New("failover: controller lost its election lease")
		case <-t.C:
		}
	}
}

// lockShard takes the shard's lock, the one every actor on a shard's
// primary takes ("keyspace/shard").
func (c *Controller) lockShard(ctx context.Context, keyspace, shard string) (func(context.Context) error, error) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.cfg.Store.Lock(lctx, keyspace+"/"+shard)
}

// shardTablets returns a shard's record and its tablets from a snapshot.
func shardTablets(snap *topo.Snapshot, keyspace, shard string) (*topo.Shard, []*topo.Tablet) {
	var sh *topo.Shard
	for _, s := range snap.Shards[keyspace] {
		if s.Name == shard {
			sh = s
		}
	}
	var tablets []*topo.Tablet
	for _, t := range snap.Tablets {
		if t.Keyspace == keyspace && t.Shard == shard {
			tablets = append(tablets, t)
		}
	}
	return sh, tablets
}

func findTablet(tablets []*topo.Tablet, alias topo.TabletAlias) *topo.Tablet {
	for _, t := range tablets {
		if t.Alias == alias {
			return t
		}
	}
	return nil
}
