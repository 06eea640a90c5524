package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/shardgate/shardgate/topo"
)

// Shards added while the cluster runs (a resharding's targets, started by
// `shardgate up`'s provisioner) are not in Config.Keyspaces: they are
// listed in addedFile, so that the next Start starts them again with the
// planned ones.

// addedFile, in Config.Dir, lists the instances AddShard started.
const addedFile = "added-instances.json"

// addedInstance is one entry of addedFile.
type addedInstance struct {
	Keyspace string `json:"keyspace"`
	Shard    string `json:"shard"`
	// Replica is 0 for the instance started as the shard's primary,
	// 1.. for its replicas (it names the directory).
	Replica int    `json:"replica"`
	UID     uint32 `json:"uid"`
}

func (c *Cluster) addedPath() string { return filepath.Join(c.cfg.Dir, addedFile) }

func (c *Cluster) readAdded() ([]addedInstance, error) {
	data, err := os.ReadFile(c.addedPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []addedInstance
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("localcluster: %s: %w", c.addedPath(), err)
	}
	return out, nil
}

func (c *Cluster) writeAdded(list []addedInstance) error {
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	tmp := c.addedPath() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, c.addedPath())
}

func (c *Cluster) addedInstance(a addedInstance) *Instance {
	typ := topo.TabletPrimary
	if a.Replica > 0 {
		typ = topo.TabletReplica
	}
	return &Instance{
		Keyspace: a.Keyspace,
		Shard:    a.Shard,
		Type:     typ,
		Alias:    topo.TabletAlias{Cell: c.cfg.Cell, UID: a.UID},
		dir:      filepath.Join(c.cfg.Dir, fmt.Sprintf("%s-%s-%d", a.Keyspace, dirName(a.Shard), a.Replica)),
		added:    true,
	}
}

// planAdded appends to c.Instances, on Start, the instances AddShard
// started in an earlier run, except those of shards the topology no
// longer has (a cancelled resharding removed them while the cluster was
// down): those stay stopped, their data left in place.
func (c *Cluster) planAdded(ctx context.Context) error {
	list, err := c.readAdded()
	if err != nil || len(list) == 0 {
		return err
	}
	var kept []addedInstance
	for _, a := range list {
		_, err := c.Store.GetShard(ctx, a.Keyspace, a.Shard)
		if errors.Is(err, topo.ErrNoNode) {
			c.cfg.Logger.Info("localcluster: not starting an added instance: its shard left the topology", "keyspace", a.Keyspace, "shard", a.Shard, "uid", a.UID)
			continue
		}
		if err != nil {
			return err
		}
		kept = append(kept, a)
		c.Instances = append(c.Instances, c.addedInstance(a))
	}
	if len(kept) != len(list) {
		return c.writeAdded(kept)
	}
	return nil
}

// AddShard starts a primary for a shard of the topology that has none
// (and Config.Replicas replicas of it, semi-synchronous like the others),
// creates the keyspace's database, and registers the tablets, the
// primary as the shard's. The next Start starts them again. A shard
// AddShard already started is left as it is.
func (c *Cluster) AddShard(ctx context.Context, keyspace, shard string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, in := range c.Instances {
		if in.Keyspace == keyspace && in.Shard == shard {
			return nil
		}
	}
	tablets, err := c.Store.ListTablets(ctx)
	if err != nil {
		return err
	}
	var top uint32
	for _, t := range tablets {
		top = max(top, t.Alias.UID)
	}
	for _, in := range c.Instances {
		top = max(top, in.Alias.UID)
	}
	list, err := c.readAdded()
	if err != nil {
		return err
	}
	for _, a := range list {
		top = max(top, a.UID)
	}
	var added []*Instance
	var entries []addedInstance
	for ri := 0; ri <= c.cfg.Replicas; ri++ {
		a := addedInstance{Keyspace: keyspace, Shard: shard, Replica: ri, UID: top + 1 + uint32(ri)}
		entries = append(entries, a)
		added = append(added, c.addedInstance(a))
	}
	c.makeMysqldsOf(added)
	ok := false
	defer func() {
		if !ok {
			stopAll(context.WithoutCancel(ctx), added)
		}
	}()
	if err := c.startInstances(ctx, added); err != nil {
		return err
	}
	if err := c.writeAdded(append(list, entries...)); err != nil {
		return err
	}
	if err := c.registerInstances(ctx, added); err != nil {
		return err
	}
	c.setInstances(append(slices.Clone(c.Instances), added...))
	ok = true
	return nil
}

// RemoveShard stops the instances AddShard started for a shard and
// forgets them (the next Start doesn't start them); their data stays in
// Config.Dir. The topology is not changed. Instances of the shards the
// cluster was configured with are never stopped here.
func (c *Cluster) RemoveShard(ctx context.Context, keyspace, shard string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var gone, kept []*Instance
	for _, in := range c.Instances {
		if in.added && in.Keyspace == keyspace && in.Shard == shard {
			gone = append(gone, in)
		} else {
			kept = append(kept, in)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	list, err := c.readAdded()
	if err != nil {
		return err
	}
	var rest []addedInstance
	for _, a := range list {
		if a.Keyspace != keyspace || a.Shard != shard {
			rest = append(rest, a)
		}
	}
	if err := c.writeAdded(rest); err != nil {
		return err
	}
	c.setInstances(kept)
	return stopAll(ctx, gone)
}

// stopAll stops instances in parallel.
func stopAll(ctx context.Context, ins []*Instance) error {
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, in := range ins {
		if in.Mysqld == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := in.Mysqld.Stop(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Dir is where the cluster keeps its data (Config.Dir).
func (c *Cluster) Dir() string { return c.cfg.Dir }
