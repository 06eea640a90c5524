package localcluster

import (
	"context"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
)

// TestAddShardSurvivesRestart: a shard added to a running cluster gets a
// primary and the configured replicas, registered; the next Start starts
// them again; RemoveShard stops them; and an added shard the topology
// dropped while the cluster ran is not started again.
func TestAddShardSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, Keyspaces: []KeyspaceSpec{{Name: "ks", Shards: 1}}, Replicas: 1, EtcdAddr: "127.0.0.1:0", Logger: tablettest.Logger(t)}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	start := func() *Cluster {
		c, err := Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	stop := func(c *Cluster) {
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
	c := start()
	defer func() {
		if pids := tablettest.Processes(dir); len(pids) > 0 {
			t.Errorf("mariadbd processes of %s left: %v", dir, pids)
		}
	}()
	for _, sh := range []string{"-80", "80-"} {
		if err := c.Store.CreateShard(ctx, &topo.Shard{Keyspace: "ks", Name: sh}); err != nil {
			t.Fatal(err)
		}
		if err := c.AddShard(ctx, "ks", sh); err != nil {
			t.Fatalf("AddShard(%s): %v", sh, err)
		}
	}
	check := func(c *Cluster, shard string, want int) {
		t.Helper()
		var got []*topo.Tablet
		tablets, err := c.Store.ListTablets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tablets {
			if tb.Shard != shard {
				continue
			}
			got = append(got, tb)
			conn, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: tb.Addr(), User: tablet.RootUser, DB: "ks"})
			if err != nil {
				t.Errorf("shard %s tablet %s (%s): %v", shard, tb.Alias, tb.Type, err)
				continue
			}
			conn.Close()
		}
		if len(got) != want {
			t.Errorf("shard %s: %d tablets, want %d", shard, len(got), want)
		}
		sh, err := c.Store.GetShard(ctx, "ks", shard)
		if err != nil || sh.PrimaryAlias == nil {
			t.Errorf("shard %s: primary %v (%v), want one", shard, sh, err)
		}
	}
	check(c, "-80", 2)
	check(c, "80-", 2)

	// 80- leaves the topology (a cancel); -80 stays.
	for _, in := range c.Instances {
		if in.Shard == "80-" {
			if err := c.Store.DeleteTablet(ctx, in.Alias); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.Store.DeleteShard(ctx, "ks", "80-"); err != nil {
		t.Fatal(err)
	}
	stop(c)

	c = start()
	check(c, "-80", 2)
	for _, in := range c.Instances {
		if in.Shard == "80-" {
			t.Errorf("after restart: instance %s of the dropped shard 80- was started", in.Alias)
		}
	}
	var addrs []string
	for _, in := range c.Instances {
		if in.Shard == "-80" {
			addrs = append(addrs, in.Mysqld.Addr())
		}
	}
	if err := c.RemoveShard(ctx, "ks", "-80"); err != nil {
		t.Fatal(err)
	}
	for _, addr := range addrs {
		if conn, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: addr, User: tablet.RootUser}); err == nil {
			conn.Close()
			t.Errorf("after RemoveShard: %s still answers", addr)
		}
	}
	configured := c.Instances[0].Shard
	if err := c.RemoveShard(ctx, "ks", configured); err != nil || c.Primary("ks", configured) == nil {
		t.Errorf("RemoveShard of the configured shard %s: %v; want it kept", configured, err)
	}
	stop(c)
	c = start()
	defer stop(c)
	for _, in := range c.Instances {
		if in.added {
			t.Errorf("after RemoveShard and restart: added instance %s/%s started", in.Shard, in.Alias)
		}
	}
}
