// Package localcluster runs a whole shardgate topology on one machine: an
// embedded etcd and one mariadbd per shard instance (a primary and, if
// asked, replicas), registered in the topology with their keyspaces,
// shards and vschemas. `shardgate up` runs it for people; the integration
// tests and benchmarks run it for themselves.
//
// Supervise restarts instances that die and rebuilds a former primary
// that can't follow its replacement (supervise.go, rebuild.go).
//
// It starts and stops processes and registers them; it must not plan,
// route or serve clients (no planner, engine or gateway).
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// KeyspaceSpec describes one keyspace of the cluster.
type KeyspaceSpec struct {
	Name string
	// Shards is the number of equal key-range shards; 0 makes the keyspace
	// unsharded (one shard named "0").
	Shards int
	// VSchema is saved only when the keyspace has none yet, so changes an
	// operator applied survive a restart.
	VSchema *vschema.Keyspace
}

// Config configures a local cluster.
type Config struct {
	// Dir holds everything: etcd/ and one directory per MySQL instance.
	Dir       string
	Keyspaces []KeyspaceSpec
	// Replicas is the number of replicas per shard.
	Replicas int
	// Cell names the tablets' cell (default "zone1").
	Cell string
	// EtcdAddr is the embedded etcd's client address ("127.0.0.1:0" picks
	// a free port; default topo.DefaultClientAddr).
	EtcdAddr string
	Logger   *slog.Logger
}

// Instance is one mariadbd of the cluster.
type Instance struct {
	Keyspace string
	Shard    string
	Type     topo.TabletType
	Alias    topo.TabletAlias
	Mysqld   *tablet.Mysqld

	dir string // the instance's directory under Config.Dir
	// added: started by AddShard, not planned from Config.Keyspaces.
	added bool
}

// Cluster is a running local cluster. Stop ends every process it started.
type Cluster struct {
	Etcd  *topo.Embedded
	Store *topo.Store
	// Instances are the running instances. AddShard and RemoveShard
	// change the list (under mu); read it while neither runs.
	Instances []*Instance
	cfg       Config
	// appPassword is the app account's (accounts.go).
	appPassword string

	mu sync.Mutex // serialises AddShard, RemoveShard and Stop
	// listMu guards the Instances slice itself once Start returned:
	// AddShard and RemoveShard replace it while Supervise, the rebuild
	// and Primary read it (through instances).
	listMu sync.RWMutex
}

// instances is a copy of Instances, safe to read while AddShard or
// RemoveShard run.
func (c *Cluster) instances() []*Instance {
	c.listMu.RLock()
	defer c.listMu.RUnlock()
	return slices.Clone(c.Instances)
}

// setInstances replaces Instances (AddShard, RemoveShard).
func (c *Cluster) setInstances(ins []*Instance) {
	c.listMu.Lock()
	c.Instances = ins
	c.listMu.Unlock()
}

// Demo is the cluster `shardgate up` starts: keyspace global (unsharded)
// and keyspace service with four shards and a hash vindex.
func Demo(dir string) Config {
	return Config{
		Dir: dir,
		Keyspaces: []KeyspaceSpec{
			{Name: "global", VSchema: &vschema.Keyspace{}},
			{Name: "service", Shards: 4, VSchema: &vschema.Keyspace{
				Sharded:  true,
				Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			}},
		},
		Replicas: 1,
	}
}

// Start brings the cluster up, reusing what an earlier run left in Dir.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Cell == "" {
		cfg.Cell = "zone1"
	}
	if cfg.EtcdAddr == "" {
		cfg.EtcdAddr = topo.DefaultClientAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	appPassword, err := loadAppPassword(cfg.Dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, appPassword: appPassword}
	ok := false
	defer func() {
		if !ok {
			c.Stop(context.Background())
		}
	}()

	etcd, err := topo.StartEmbedded(ctx, topo.EmbeddedConfig{Dir: filepath.Join(cfg.Dir, "etcd"), ClientAddr: cfg.EtcdAddr, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.Etcd = etcd
	// Our own etcd, which said it is ready: a slow first answer is load
	// (CI saw 5 s pass at load 26), not a wrong address.
	store, err := topo.Open(ctx, topo.Config{Endpoints: etcd.Endpoints(), Logger: cfg.Logger, DialTimeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	c.Store = store

	c.Instances, err = plan(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.planAdded(ctx); err != nil {
		return nil, err
	}
	if err := c.adoptPrimaries(ctx); err != nil {
		return nil, err
	}
	c.makeMysqlds()
	if err := c.startMysqlds(ctx); err != nil {
		return nil, err
	}
	if err := c.register(ctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// plan lays out the instances: per shard a primary, then its replicas,
// with stable server ids and tablet uids derived from their position.
func plan(cfg Config) ([]*Instance, error) {
	var out []*Instance
	for ki, ks := range cfg.Keyspaces {
		names := []string{"0"}
		if ks.Shards > 0 {
			ranges, err := vindex.SplitKeyRange(ks.Shards)
			if err != nil {
				return nil, fmt.Errorf("localcluster: keyspace %s: %w", ks.Name, err)
			}
			names = names[:0]
			for _, r := range ranges {
				names = append(names, r.String())
			}
		}
		for si, shard := range names {
			for ri := 0; ri <= cfg.Replicas; ri++ {
				typ := topo.TabletPrimary
				if ri > 0 {
					typ = topo.TabletReplica
				}
				uid := uint32(10000*(ki+1) + si*10 + ri)
				dir := filepath.Join(cfg.Dir, fmt.Sprintf("%s-%s-%d", ks.Name, dirName(shard), ri))
				out = append(out, &Instance{
					Keyspace: ks.Name,
					Shard:    shard,
					Type:     typ,
					Alias:    topo.TabletAlias{Cell: cfg.Cell, UID: uid},
					dir:      dir,
				})
			}
		}
	}
	return out, nil
}

// adoptPrimaries keeps, on a restart, the primaries the topology names:
// after a failover the shard's primary is no longer the instance plan
// made primary, and making that one primary again would lose the writes
// taken since. The other instances of such a shard replicate from it; a
// tablet the topology has drained (a former primary not yet fenced) stays
// drained, read-only, until the failover controller sees its replication
// run. A shard the topology doesn't know yet keeps plan's choice.
func (c *Cluster) adoptPrimaries(ctx context.Context) error {
	for _, in := range c.Instances {
		sh, err := c.Store.GetShard(ctx, in.Keyspace, in.Shard)
		if errors.Is(err, topo.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		if sh.PrimaryAlias == nil || c.instance(*sh.PrimaryAlias) == nil {
			continue
		}
		in.Type = topo.TabletReplica
		if in.Alias == *sh.PrimaryAlias {
			in.Type = topo.TabletPrimary
		} else if t, err := c.Store.GetTablet(ctx, in.Alias); err == nil && t.Type == topo.TabletDrained {
			in.Type = topo.TabletDrained
		}
	}
	return nil
}

// makeMysqlds gives each instance its Mysqld once its type is known: the
// primary of a shard with replicas acknowledges a commit only once a
// replica has it, waiting without limit (tablet.MysqldConfig's
// WaitForReplica); a lone primary and the replicas never wait. A drained
// former primary does not count as a replica: it may never replicate
// again. The failover controller changes all this on the instances whose
// roles it changes.
func (c *Cluster) makeMysqlds() { c.makeMysqldsOf(c.Instances) }

// makeMysqldsOf is makeMysqlds for instances that include every instance
// of their shards.
func (c *Cluster) makeMysqldsOf(ins []*Instance) {
	hasReplica := map[[2]string]bool{}
	for _, in := range ins {
		if in.Type == topo.TabletReplica {
			hasReplica[[2]string{in.Keyspace, in.Shard}] = true
		}
	}
	for _, in := range ins {
		in.Mysqld = tablet.NewMysqld(tablet.MysqldConfig{
			Dir:            in.dir,
			ServerID:       in.Alias.UID,
			WaitForReplica: in.Type == topo.TabletPrimary && hasReplica[[2]string{in.Keyspace, in.Shard}],
			App:            &tablet.AppAccount{User: tablet.AppUser, Password: c.appPassword, Databases: []string{in.Keyspace}},
			Logger:         c.cfg.Logger,
		})
	}
}

// instance returns the instance with the alias, nil if none.
func (c *Cluster) instance(alias topo.TabletAlias) *Instance {
	for _, in := range c.Instances {
		if in.Alias == alias {
			return in
		}
	}
	return nil
}

// dirName makes a shard name safe for a directory: "-80" → "x-80".
func dirName(shard string) string { return "x" + shard }

// startMysqlds initialises and starts every instance in parallel, then
// points replicas at their primaries and creates each keyspace's database.
func (c *Cluster) startMysqlds(ctx context.Context) error { return c.startInstances(ctx, c.Instances) }

// startInstances is startMysqlds for instances that include every
// instance of their shards.
func (c *Cluster) startInstances(ctx context.Context, ins []*Instance) error {
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := in.Mysqld.Init(ctx); err != nil {
				errs[i] = fmt.Errorf("%s/%s %s: %w", in.Keyspace, in.Shard, in.Type, err)
				return
			}
			if err := in.Mysqld.Start(ctx); err != nil {
				errs[i] = fmt.Errorf("%s/%s %s: %w", in.Keyspace, in.Shard, in.Type, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Replication first: a primary with replicas acknowledges the CREATE
	// DATABASE below only once a replica has it.
	for _, in := range ins {
		if in.Type == topo.TabletPrimary {
			continue
		}
		primary := primaryIn(ins, in.Keyspace, in.Shard)
		if err := in.Mysqld.StartReplication(ctx, primary.Mysqld.Addr()); err != nil {
			return fmt.Errorf("%s/%s replica: %w", in.Keyspace, in.Shard, err)
		}
	}
	for _, in := range ins {
		if in.Type != topo.TabletPrimary {
			continue
		}
		// Created on the primary with binary logging on, so it reaches
		// the replicas through replication.
		if err := execOnce(ctx, in.Mysqld.Addr(), "CREATE DATABASE IF NOT EXISTS `"+in.Keyspace+"`"); err != nil {
			return fmt.Errorf("%s/%s: create database: %w", in.Keyspace, in.Shard, err)
		}
	}
	return nil
}

func execOnce(ctx context.Context, addr, query string) error {
	conn, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: addr, User: "root"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Execute(ctx, query)
	return err
}

// register writes keyspaces, shards, tablets and vschemas to the topology,
// keeping what is already there (a restart) but updating tablet addresses.
func (c *Cluster) register(ctx context.Context) error {
	st := c.Store
	for _, ks := range c.cfg.Keyspaces {
		err := st.CreateKeyspace(ctx, topo.Keyspace{Name: ks.Name, Sharded: ks.Shards > 0})
		if err != nil && !errors.Is(err, topo.ErrNodeExists) {
			return err
		}
	}
	if err := c.registerInstances(ctx, c.Instances); err != nil {
		return err
	}
	for _, ks := range c.cfg.Keyspaces {
		if ks.VSchema == nil {
			continue
		}
		err := st.UpdateVSchema(ctx, ks.Name, func(cur *vschema.Keyspace) error {
			if len(cur.Vindexes) > 0 || len(cur.Tables) > 0 {
				return nil // an operator's vschema is kept
			}
			*cur = *ks.VSchema
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// registerInstances writes the shards of instances (their primaries) and
// their tablets, keeping what is there but updating addresses.
func (c *Cluster) registerInstances(ctx context.Context, ins []*Instance) error {
	st := c.Store
	for _, in := range ins {
		if in.Type != topo.TabletPrimary {
			continue
		}
		alias := in.Alias
		err := st.CreateShard(ctx, &topo.Shard{Keyspace: in.Keyspace, Name: in.Shard, PrimaryAlias: &alias})
		if errors.Is(err, topo.ErrNodeExists) {
			err = st.UpdateShard(ctx, in.Keyspace, in.Shard, func(s *topo.Shard) error { s.PrimaryAlias = &alias; return nil })
		}
		if err != nil {
			return err
		}
	}
	for _, in := range ins {
		t := &topo.Tablet{Alias: in.Alias, Keyspace: in.Keyspace, Shard: in.Shard, Type: in.Type, Host: "127.0.0.1", Port: in.Mysqld.Port()}
		err := st.AddTablet(ctx, t)
		if errors.Is(err, topo.ErrNodeExists) {
			err = st.UpdateTablet(ctx, in.Alias, func(old *topo.Tablet) error { *old = *t; return nil })
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Primary returns the primary instance of a shard as of Start (the one
// the topology named, see adoptPrimaries), nil if there is none. A
// failover while the cluster runs changes the topology, not Instances.
func (c *Cluster) Primary(keyspace, shard string) *Instance {
	return primaryIn(c.instances(), keyspace, shard)
}

func primaryIn(ins []*Instance, keyspace, shard string) *Instance {
	for _, in := range ins {
		if in.Keyspace == keyspace && in.Shard == shard && in.Type == topo.TabletPrimary {
			return in
		}
	}
	return nil
}

// Endpoints are the embedded etcd's client URLs.
func (c *Cluster) Endpoints() []string { return c.Etcd.Endpoints() }

// Stop stops every mariadbd and the etcd server; data stays in Dir.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	errs = append(errs, stopAll(ctx, c.Instances))
	if c.Store != nil {
		c.Store.Close()
	}
	if c.Etcd != nil {
		errs = append(errs, c.Etcd.Close())
	}
	return errors.Join(errs...)
}
