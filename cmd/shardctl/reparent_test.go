package main

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/topo"
)

// TestReparentRefused: `shardctl reparent` refuses, with a clear error,
// an unknown shard, an unknown alias (also in --ignore-replicas, which
// only an emergency reparent takes), a tablet that is not a replica of
// the shard, and a second reparent of a shard while one waits; with no
// controller to carry it out it says so when --wait runs out, and
// withdraws the request. (The reparents themselves are tested in package
// failover, on a cluster.)
func TestReparentRefused(t *testing.T) {
	s, ctx := store(t), t.Context()
	mustCtl(t, "keyspace", "create", "user", "--sharded")
	if err := s.CreateShard(ctx, &topo.Shard{Keyspace: "user", Name: "-80"}); err != nil {
		t.Fatal(err)
	}
	primary := topo.TabletAlias{Cell: "zone1", UID: 100}
	for _, tb := range []*topo.Tablet{
		{Alias: primary, Keyspace: "user", Shard: "-80", Type: topo.TabletPrimary, Host: "127.0.0.1", Port: 17100},
		{Alias: topo.TabletAlias{Cell: "zone1", UID: 101}, Keyspace: "user", Shard: "-80", Type: topo.TabletReplica, Host: "127.0.0.1", Port: 17101},
	} {
		if err := s.AddTablet(ctx, tb); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpdateShard(ctx, "user", "-80", func(sh *topo.Shard) error { sh.PrimaryAlias = &primary; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"reparent", "planned", "--keyspace", "user"}, exitUsage, "--keyspace and --shard are required"},
		{[]string{"reparent", "planned", "--keyspace", "user", "--shard", "80-"}, exitError, "unknown shard user/80-"},
		{[]string{"reparent", "emergency", "--keyspace", "user", "--shard", "-80", "--new-primary", "zone1-0000000999"}, exitError, "unknown tablet zone1-0000000999"},
		{[]string{"reparent", "planned", "--keyspace", "user", "--shard", "-80", "--new-primary", "zone1-0000000100"}, exitError, "tablet zone1-0000000100 is not a replica of user/-80 (it is primary)"},
		{[]string{"reparent", "emergency", "--keyspace", "user", "--shard", "-80", "--ignore-replicas", "zone1-0000000101,zone1-0000000999"}, exitError, "--ignore-replicas: unknown tablet zone1-0000000999"},
		{[]string{"reparent", "emergency", "--keyspace", "user", "--shard", "-80", "--ignore-replicas", "zone1-0000000100"}, exitError, "tablet zone1-0000000100 is not a replica of user/-80 (it is primary)"},
		{[]string{"reparent", "planned", "--keyspace", "user", "--shard", "-80", "--ignore-replicas", "zone1-0000000101"}, exitUsage, "flag provided but not defined: -ignore-replicas"},
		{[]string{"reparent", "planned", "--keyspace", "user", "--shard", "-80", "--wait", "300ms"}, exitError, "is a shardgate with --failover running?"},
	} {
		out, errs, code := ctl(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("shardctl %s: got exit %d, stdout %q, stderr %q, want exit %d saying %q", strings.Join(c.args, " "), code, out, errs, c.code, c.want)
		}
	}
	// The request that no controller took was withdrawn: a new one may
	// be made; one pending blocks the next.
	r := &failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "user", Shard: "-80"}
	if err := failover.RequestReparent(ctx, s, r); err != nil {
		t.Fatalf("a reparent after the withdrawn one: %v", err)
	}
	if _, errs, code := ctl(t, "reparent", "emergency", "--keyspace", "user", "--shard", "-80"); code != exitError || !strings.Contains(errs, "already pending or running") {
		t.Errorf("reparent while one is pending: got exit %d, stderr %q, want 1 saying already pending or running", code, errs)
	}
}
