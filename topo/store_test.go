package topo

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topo/vschema"
)

func mustCreateKeyspace(t *testing.T, s *Store, name string, sharded bool) {
	t.Helper()
	if err := s.CreateKeyspace(t.Context(), Keyspace{Name: name, Sharded: sharded}); err != nil {
		t.Fatalf("CreateKeyspace(%s): %v", name, err)
	}
}

func mustCreateShards(t *testing.T, s *Store, ks string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := s.CreateShard(t.Context(), &Shard{Keyspace: ks, Name: n}); err != nil {
			t.Fatalf("CreateShard(%s/%s): %v", ks, n, err)
		}
	}
}

func shardNames(shards []*Shard) []string {
	var names []string
	for _, sh := range shards {
		names = append(names, sh.Name)
	}
	return names
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	if _, err := Open(ctx, Config{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open with no endpoints: got %v, want ErrInvalid", err)
	}
	if _, err := Open(ctx, Config{Endpoints: testEndpoints(t), Root: "relative"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open with root %q: got %v, want ErrInvalid", "relative", err)
	}
	start := time.Now()
	_, err := Open(ctx, Config{Endpoints: []string{"127.0.0.1:1"}, DialTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("Open of a closed port: got %v, want an error naming the endpoint", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Open of a closed port took %v, want about the 300ms dial timeout", d)
	}
	s, err := Open(ctx, Config{Endpoints: testEndpoints(t), Root: "/x/"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Root(); got != "/x" {
		t.Errorf("Root(): got %q, want /x", got)
	}
}

func TestKeyspaces(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	if got, err := s.ListKeyspaces(ctx); err != nil || len(got) != 0 {
		t.Errorf("ListKeyspaces on empty topo: got %v, %v, want none", got, err)
	}
	mustCreateKeyspace(t, s, "user", true)
	mustCreateKeyspace(t, s, "global", false)
	if err := s.CreateKeyspace(ctx, Keyspace{Name: "user"}); !errors.Is(err, ErrNodeExists) {
		t.Errorf("CreateKeyspace(user) again: got %v, want ErrNodeExists", err)
	}
	for _, bad := range []string{"", "a/b", "a b", strings.Repeat("x", 65)} {
		if err := s.CreateKeyspace(ctx, Keyspace{Name: bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateKeyspace(%q): got %v, want ErrInvalid", bad, err)
		}
	}
	ks, err := s.GetKeyspace(ctx, "user")
	if err != nil || *ks != (Keyspace{Name: "user", Sharded: true}) {
		t.Errorf("GetKeyspace(user): got %+v, %v, want sharded user", ks, err)
	}
	if _, err := s.GetKeyspace(ctx, "nope"); !errors.Is(err, ErrNoNode) {
		t.Errorf("GetKeyspace(nope): got %v, want ErrNoNode", err)
	}
	list, err := s.ListKeyspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "global" || list[1].Name != "user" || list[0].Sharded || !list[1].Sharded {
		t.Errorf("ListKeyspaces: got %+v, want global (unsharded), user (sharded)", list)
	}
	srv, err := s.GetSrvKeyspace(ctx, "user")
	if err != nil || srv.Name != "user" || !srv.Sharded || len(srv.Partitions) != 0 {
		t.Errorf("GetSrvKeyspace(user) of a new keyspace: got %+v, %v, want sharded with no partitions", srv, err)
	}
	if _, err := s.GetSrvKeyspace(ctx, "nope"); !errors.Is(err, ErrNoNode) {
		t.Errorf("GetSrvKeyspace(nope): got %v, want ErrNoNode", err)
	}
}

func TestShards(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	if err := s.CreateShard(ctx, &Shard{Keyspace: "user", Name: "-80"}); !errors.Is(err, ErrNoNode) {
		t.Errorf("CreateShard in a missing keyspace: got %v, want ErrNoNode", err)
	}
	mustCreateKeyspace(t, s, "user", true)
	mustCreateKeyspace(t, s, "global", false)
	mustCreateShards(t, s, "user", "80-c0", "c0-", "-80")
	mustCreateShards(t, s, "global", "0")

	if err := s.CreateShard(ctx, &Shard{Keyspace: "user", Name: "-80"}); !errors.Is(err, ErrNodeExists) {
		t.Errorf("CreateShard(user/-80) again: got %v, want ErrNodeExists", err)
	}
	for _, bad := range []string{"", "zz", "80", "80-40", "-8A", "-80-c0"} {
		if err := s.CreateShard(ctx, &Shard{Keyspace: "user", Name: bad}); err == nil {
			t.Errorf("CreateShard(user/%q): got no error, want one", bad)
		}
	}

	shards, err := s.ListShards(ctx, "user")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := shardNames(shards), []string{"-80", "80-c0", "c0-"}; !slices.Equal(got, want) {
		t.Errorf("ListShards(user): got %v, want %v", got, want)
	}
	for _, sh := range shards {
		if !sh.Serving || sh.KeyRange.String() != sh.Name || sh.Keyspace != "user" {
			t.Errorf("shard %s: got %+v, want serving with key range %s", sh.Name, sh, sh.Name)
		}
	}
	if _, err := s.ListShards(ctx, "nope"); !errors.Is(err, ErrNoNode) {
		t.Errorf("ListShards(nope): got %v, want ErrNoNode", err)
	}
	g, err := s.GetShard(ctx, "global", "0")
	if err != nil || !g.KeyRange.IsFull() || !g.Serving {
		t.Errorf("GetShard(global/0): got %+v, %v, want the full range, serving", g, err)
	}
	if _, err := s.GetShard(ctx, "user", "-40"); !errors.Is(err, ErrNoNode) {
		t.Errorf("GetShard(user/-40): got %v, want ErrNoNode", err)
	}

	// An overlapping shard (a resharding target) is created not serving,
	// and the serving graph keeps the old set.
	mustCreateShards(t, s, "user", "-40")
	sh, err := s.GetShard(ctx, "user", "-40")
	if err != nil || sh.Serving {
		t.Errorf("GetShard(user/-40) overlapping -80: got %+v, %v, want not serving", sh, err)
	}
	srv, err := s.GetSrvKeyspace(ctx, "user")
	if err != nil {
		t.Fatal(err)
	}
	want := map[TabletType][]string{TabletPrimary: {"-80", "80-c0", "c0-"}, TabletReplica: {"-80", "80-c0", "c0-"}}
	if !reflect.DeepEqual(srv.Partitions, want) {
		t.Errorf("SrvKeyspace(user) partitions: got %v, want %v", srv.Partitions, want)
	}

	// Switch -80 for -40 + 40-80 by hand, as a resharding cutover will.
	mustCreateShards(t, s, "user", "40-80")
	for name, serving := range map[string]bool{"-80": false, "-40": true, "40-80": true} {
		if err := s.UpdateShard(ctx, "user", name, func(sh *Shard) error { sh.Serving = serving; return nil }); err != nil {
			t.Fatalf("UpdateShard(user/%s): %v", name, err)
		}
	}
	if err := s.RebuildSrvKeyspace(ctx, "user"); err != nil {
		t.Fatal(err)
	}
	srv, _ = s.GetSrvKeyspace(ctx, "user")
	if got, want := srv.Partitions[TabletPrimary], []string{"-40", "40-80", "80-c0", "c0-"}; !slices.Equal(got, want) {
		t.Errorf("SrvKeyspace(user) primary after cutover: got %v, want %v", got, want)
	}
	if err := s.RebuildSrvKeyspace(ctx, "nope"); !errors.Is(err, ErrNoNode) {
		t.Errorf("RebuildSrvKeyspace(nope): got %v, want ErrNoNode", err)
	}
	srv, _ = s.GetSrvKeyspace(ctx, "global")
	if got := srv.Partitions[TabletReplica]; !slices.Equal(got, []string{"0"}) {
		t.Errorf("SrvKeyspace(global) replica: got %v, want [0]", got)
	}
}

func TestUpdateShard(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	mustCreateKeyspace(t, s, "ks", true)
	mustCreateShards(t, s, "ks", "-")

	alias := TabletAlias{"zone1", 100}
	if err := s.UpdateShard(ctx, "ks", "-", func(sh *Shard) error { sh.PrimaryAlias = &alias; return nil }); err != nil {
		t.Fatal(err)
	}
	sh, _ := s.GetShard(ctx, "ks", "-")
	if sh.PrimaryAlias == nil || *sh.PrimaryAlias != alias {
		t.Errorf("primary after UpdateShard: got %v, want %v", sh.PrimaryAlias, alias)
	}
	if err := s.UpdateShard(ctx, "ks", "80-", func(*Shard) error { return nil }); !errors.Is(err, ErrNoNode) {
		t.Errorf("UpdateShard(ks/80-): got %v, want ErrNoNode", err)
	}
	if err := s.UpdateShard(ctx, "ks", "-", func(sh *Shard) error { sh.Name = "-80"; return nil }); !errors.Is(err, ErrInvalid) {
		t.Errorf("UpdateShard renaming: got %v, want ErrInvalid", err)
	}
	boom := errors.New("boom")
	if err := s.UpdateShard(ctx, "ks", "-", func(*Shard) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateShard with failing fn: got %v, want %v", err, boom)
	}
	if err := s.UpdateShard(ctx, "ks", "-", func(sh *Shard) error { sh.PrimaryAlias = nil; return ErrNoUpdateNeeded }); err != nil {
		t.Errorf("UpdateShard with ErrNoUpdateNeeded: got %v, want nil", err)
	}
	sh, _ = s.GetShard(ctx, "ks", "-")
	if sh.PrimaryAlias == nil {
		t.Errorf("UpdateShard with ErrNoUpdateNeeded wrote its change")
	}

	// Concurrent increments all land: the CAS loop retries lost races.
	const workers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				errs <- s.UpdateShard(ctx, "ks", "-", func(sh *Shard) error { sh.PrimaryAlias.UID++; return nil })
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent UpdateShard: %v", err)
		}
	}
	sh, _ = s.GetShard(ctx, "ks", "-")
	if got, want := sh.PrimaryAlias.UID, uint32(100+workers*each); got != want {
		t.Errorf("UID after %d concurrent increments: got %d, want %d", workers*each, got, want)
	}
}

func TestTablets(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	mustCreateKeyspace(t, s, "ks", true)
	mustCreateShards(t, s, "ks", "-80", "80-")
	tab := func(cell string, uid uint32, shard string, typ TabletType) *Tablet {
		return &Tablet{Alias: TabletAlias{cell, uid}, Keyspace: "ks", Shard: shard, Type: typ, Host: "127.0.0.1", Port: 17000 + int(uid)}
	}
	for _, tb := range []*Tablet{tab("zone2", 1, "-80", TabletReplica), tab("zone1", 200, "80-", TabletPrimary), tab("zone1", 101, "-80", TabletReplica), tab("zone1", 100, "-80", TabletPrimary)} {
		if err := s.AddTablet(ctx, tb); err != nil {
			t.Fatalf("AddTablet(%s): %v", tb.Alias, err)
		}
	}
	if err := s.AddTablet(ctx, tab("zone1", 100, "80-", TabletReplica)); !errors.Is(err, ErrNodeExists) {
		t.Errorf("AddTablet(zone1-100) again: got %v, want ErrNodeExists", err)
	}
	if err := s.AddTablet(ctx, tab("zone1", 300, "40-", TabletReplica)); !errors.Is(err, ErrNoNode) {
		t.Errorf("AddTablet in a missing shard: got %v, want ErrNoNode", err)
	}
	bad := []*Tablet{
		{Alias: TabletAlias{"zone1", 1}, Keyspace: "ks", Shard: "-80", Type: "rdonly", Host: "h", Port: 1},
		{Alias: TabletAlias{"zone1", 1}, Keyspace: "ks", Shard: "-80", Type: TabletReplica, Host: "", Port: 1},
		{Alias: TabletAlias{"zone1", 1}, Keyspace: "ks", Shard: "-80", Type: TabletReplica, Host: "h", Port: 0},
		{Alias: TabletAlias{"", 1}, Keyspace: "ks", Shard: "-80", Type: TabletReplica, Host: "h", Port: 1},
	}
	for _, tb := range bad {
		if err := s.AddTablet(ctx, tb); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddTablet(%+v): got %v, want ErrInvalid", tb, err)
		}
	}

	got, err := s.GetTablet(ctx, TabletAlias{"zone1", 100})
	if err != nil || *got != *tab("zone1", 100, "-80", TabletPrimary) {
		t.Errorf("GetTablet(zone1-100): got %+v, %v", got, err)
	}
	if _, err := s.GetTablet(ctx, TabletAlias{"zone1", 999}); !errors.Is(err, ErrNoNode) {
		t.Errorf("GetTablet(zone1-999): got %v, want ErrNoNode", err)
	}
	list, err := s.ListTablets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var aliases []string
	for _, tb := range list {
		aliases = append(aliases, tb.Alias.String())
	}
	if want := []string{"zone1-0000000100", "zone1-0000000101", "zone1-0000000200", "zone2-0000000001"}; !slices.Equal(aliases, want) {
		t.Errorf("ListTablets: got %v, want %v", aliases, want)
	}

	a := TabletAlias{"zone1", 101}
	if err := s.UpdateTablet(ctx, a, func(tb *Tablet) error { tb.Type = TabletPrimary; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetTablet(ctx, a); got.Type != TabletPrimary {
		t.Errorf("type after UpdateTablet: got %s, want primary", got.Type)
	}
	if err := s.UpdateTablet(ctx, a, func(tb *Tablet) error { tb.Alias.UID = 7; return nil }); !errors.Is(err, ErrInvalid) {
		t.Errorf("UpdateTablet changing the alias: got %v, want ErrInvalid", err)
	}
	if err := s.UpdateTablet(ctx, a, func(tb *Tablet) error { tb.Type = "master"; return nil }); !errors.Is(err, ErrInvalid) {
		t.Errorf("UpdateTablet to type master: got %v, want ErrInvalid", err)
	}
	if err := s.UpdateTablet(ctx, TabletAlias{"zone9", 1}, func(*Tablet) error { return nil }); !errors.Is(err, ErrNoNode) {
		t.Errorf("UpdateTablet(zone9-1): got %v, want ErrNoNode", err)
	}

	// Concurrent read-modify-writes of one tablet all land.
	const workers, each = 8, 5
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if err := s.UpdateTablet(ctx, a, func(tb *Tablet) error { tb.Port++; return nil }); err != nil {
					t.Errorf("concurrent UpdateTablet: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if got, _ := s.GetTablet(ctx, a); got.Port != 17101+workers*each {
		t.Errorf("port after %d concurrent increments: got %d, want %d", workers*each, got.Port, 17101+workers*each)
	}

	if err := s.DeleteTablet(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTablet(ctx, a); !errors.Is(err, ErrNoNode) {
		t.Errorf("DeleteTablet twice: got %v, want ErrNoNode", err)
	}
	if _, err := s.GetTablet(ctx, a); !errors.Is(err, ErrNoNode) {
		t.Errorf("GetTablet after delete: got %v, want ErrNoNode", err)
	}
}

const userVSchema = `{
  "sharded": true,
  "vindexes": {"hash": {"type": "hash"}},
  "tables": {
    "user": {
      "column_vindexes": [{"column": "id", "name": "hash"}],
      "auto_increment": {"column": "id", "sequence": "user_seq"}
    }
  }
}`

const globalVSchema = `{"tables": {"user_seq": {"type": "sequence"}}}`

func mustSaveVSchema(t *testing.T, s *Store, ks, js string) {
	t.Helper()
	vs, err := vschema.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveVSchema(t.Context(), ks, vs); err != nil {
		t.Fatalf("SaveVSchema(%s): %v", ks, err)
	}
}

func TestVSchema(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	if _, err := s.GetVSchema(ctx, "global"); !errors.Is(err, ErrNoNode) {
		t.Errorf("GetVSchema of a missing keyspace: got %v, want ErrNoNode", err)
	}
	mustCreateKeyspace(t, s, "global", false)
	mustCreateKeyspace(t, s, "user", true)

	// Implied empty vschemas.
	for ks, sharded := range map[string]bool{"global": false, "user": true} {
		vs, err := s.GetVSchema(ctx, ks)
		if err != nil || !reflect.DeepEqual(vs, &vschema.Keyspace{Sharded: sharded}) {
			t.Errorf("GetVSchema(%s) with none saved: got %+v, %v, want empty, sharded=%v", ks, vs, err, sharded)
		}
	}

	// The sequence must exist first.
	vs, _ := vschema.Parse([]byte(userVSchema))
	err := s.SaveVSchema(ctx, "user", vs)
	if !errors.Is(err, vschema.ErrInvalid) || !strings.Contains(err.Error(), `sequence "user_seq"`) {
		t.Errorf("SaveVSchema(user) before its sequence exists: got %v, want vschema.ErrInvalid naming user_seq", err)
	}
	mustSaveVSchema(t, s, "global", globalVSchema)
	mustSaveVSchema(t, s, "user", userVSchema)
	got, err := s.GetVSchema(ctx, "user")
	if err != nil || !reflect.DeepEqual(got, vs) {
		t.Errorf("GetVSchema(user): got %+v, %v, want %+v", got, err, vs)
	}

	// Now global can't drop the sequence user needs.
	if err := s.SaveVSchema(ctx, "global", &vschema.Keyspace{}); !errors.Is(err, vschema.ErrInvalid) {
		t.Errorf("SaveVSchema(global) dropping user_seq: got %v, want vschema.ErrInvalid", err)
	}
	// Invalid ones are refused and change nothing.
	invalid := &vschema.Keyspace{Sharded: true, Tables: map[string]*vschema.Table{"t": {}}}
	if err := s.SaveVSchema(ctx, "user", invalid); !errors.Is(err, vschema.ErrInvalid) || !strings.Contains(err.Error(), `"t"`) {
		t.Errorf("SaveVSchema(user) invalid: got %v, want vschema.ErrInvalid naming t", err)
	}
	if err := s.SaveVSchema(ctx, "user", &vschema.Keyspace{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("SaveVSchema(user) unsharded vschema for a sharded keyspace: got %v, want ErrInvalid", err)
	}
	if err := s.SaveVSchema(ctx, "nope", &vschema.Keyspace{}); !errors.Is(err, ErrNoNode) {
		t.Errorf("SaveVSchema(nope): got %v, want ErrNoNode", err)
	}
	if err := s.SaveVSchema(ctx, "user", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("SaveVSchema(user, nil): got %v, want ErrInvalid", err)
	}
	if got, _ := s.GetVSchema(ctx, "user"); !reflect.DeepEqual(got, vs) {
		t.Errorf("GetVSchema(user) after refused saves: got %+v, want %+v", got, vs)
	}
}

func TestUpdateVSchemaConcurrent(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	mustCreateKeyspace(t, s, "global", false)
	// Each worker adds its own tables, as CREATE TABLE does; none is lost.
	const workers, each = 6, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				name := "t" + string(rune('a'+w)) + string(rune('0'+i))
				err := s.UpdateVSchema(ctx, "global", func(vs *vschema.Keyspace) error {
					if vs.Tables[name] != nil {
						return ErrNoUpdateNeeded
					}
					if vs.Tables == nil {
						vs.Tables = make(map[string]*vschema.Table)
					}
					vs.Tables[name] = &vschema.Table{}
					return nil
				})
				if err != nil {
					t.Errorf("UpdateVSchema adding %s: %v", name, err)
				}
			}
		})
	}
	wg.Wait()
	vs, err := s.GetVSchema(ctx, "global")
	if err != nil || len(vs.Tables) != workers*each {
		t.Errorf("tables after concurrent UpdateVSchema: got %d, %v, want %d", len(vs.Tables), err, workers*each)
	}
}

func TestSnapshot(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	mustCreateKeyspace(t, s, "global", false)
	mustCreateKeyspace(t, s, "user", true)
	mustCreateShards(t, s, "global", "0")
	mustCreateShards(t, s, "user", "80-", "-80")
	mustSaveVSchema(t, s, "global", globalVSchema)
	mustSaveVSchema(t, s, "user", userVSchema)
	if err := s.AddTablet(ctx, &Tablet{Alias: TabletAlias{"zone1", 1}, Keyspace: "user", Shard: "-80", Type: TabletPrimary, Host: "h", Port: 1}); err != nil {
		t.Fatal(err)
	}
	// Lock keys are not part of the topology.
	unlock, err := s.Lock(ctx, "user")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(ctx)

	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Revision == 0 || len(snap.Keyspaces) != 2 || !snap.Keyspaces["user"].Sharded {
		t.Errorf("snapshot keyspaces: got rev %d, %+v", snap.Revision, snap.Keyspaces)
	}
	if got := shardNames(snap.Shards["user"]); !slices.Equal(got, []string{"-80", "80-"}) {
		t.Errorf("snapshot shards of user: got %v, want [-80 80-]", got)
	}
	if len(snap.Tablets) != 1 || snap.Tablets[0].Alias.UID != 1 {
		t.Errorf("snapshot tablets: got %+v, want zone1-1", snap.Tablets)
	}
	if got := snap.Srv["user"].Partitions[TabletPrimary]; !slices.Equal(got, []string{"-80", "80-"}) {
		t.Errorf("snapshot serving graph of user: got %v, want [-80 80-]", got)
	}
	if len(snap.VSchemas) != 2 || snap.VSchemas["user"].Tables["user"] == nil {
		t.Errorf("snapshot vschemas: got %+v", snap.VSchemas)
	}
	tbl, err := snap.VSchema.FindTable("user", "user")
	if err != nil || tbl.Sequence == nil || tbl.Sequence.Keyspace != "global" {
		t.Errorf("compiled vschema: FindTable(user, user) got %+v, %v, want sequence in global", tbl, err)
	}
}

func TestWatchSnapshots(t *testing.T) {
	s := newStore(t)
	mustCreateKeyspace(t, s, "global", false)

	ctx, cancel := context.WithCancel(t.Context())
	snaps := make(chan *Snapshot, 100)
	done := make(chan error, 1)
	go func() { done <- s.WatchSnapshots(ctx, func(snap *Snapshot) { snaps <- snap }) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("WatchSnapshots after cancel: got %v, want context.Canceled", err)
		}
	}()

	next := func(what string, ok func(*Snapshot) bool) *Snapshot {
		t.Helper()
		timeout := time.After(time.Second)
		for {
			select {
			case snap := <-snaps:
				if ok(snap) {
					return snap
				}
			case <-timeout:
				t.Fatalf("no snapshot with %s within 1s", what)
				return nil
			}
		}
	}
	first := next("the keyspace", func(snap *Snapshot) bool { return snap.Keyspaces["global"] != nil })

	start := time.Now()
	mustSaveVSchema(t, s, "global", globalVSchema)
	snap := next("the saved vschema", func(snap *Snapshot) bool { return snap.VSchemas["global"].Tables["user_seq"] != nil })
	t.Logf("SaveVSchema seen after %v", time.Since(start))
	if snap.Revision <= first.Revision {
		t.Errorf("revisions: got %d after %d, want increasing", snap.Revision, first.Revision)
	}

	// A burst of writes is coalesced into few snapshots, the last one
	// complete.
	for i := range 10 {
		mustCreateShards(t, s, "global", []string{"-10", "10-20", "20-30", "30-40", "40-50", "50-60", "60-70", "70-80", "80-90", "90-"}[i])
	}
	next("ten shards", func(snap *Snapshot) bool { return len(snap.Shards["global"]) == 10 })
	// Let the burst's trailing snapshots (a loaded machine may deliver
	// more than one) arrive before watching for none.
	for quiet := false; !quiet; {
		select {
		case <-snaps:
		case <-time.After(300 * time.Millisecond):
			quiet = true
		}
	}

	// Taking a lock changes nothing routable: no snapshot.
	unlock, err := s.Lock(ctx, "global")
	if err != nil {
		t.Fatal(err)
	}
	if err := unlock(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case snap := <-snaps:
		t.Errorf("got a snapshot (rev %d) after only a lock, want none", snap.Revision)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestLock(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	unlock, err := s.Lock(ctx, "ks/-80")
	if err != nil {
		t.Fatal(err)
	}
	// A second holder waits until the first unlocks.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(short, "ks/-80"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Lock while held: got %v, want context.DeadlineExceeded", err)
	}
	// Other names are independent, including prefixes.
	unlockOther, err := s.Lock(ctx, "ks")
	if err != nil {
		t.Fatalf("Lock(ks) while ks/-80 is held: %v", err)
	}
	if err := unlockOther(ctx); err != nil {
		t.Error(err)
	}

	acquired := make(chan func(context.Context) error)
	go func() {
		u, err := s.Lock(ctx, "ks/-80")
		if err != nil {
			t.Errorf("waiting Lock: %v", err)
		}
		acquired <- u
	}()
	select {
	case <-acquired:
		t.Fatal("second holder got the lock while the first held it")
	case <-time.After(100 * time.Millisecond):
	}
	if err := unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := unlock(ctx); err != nil {
		t.Errorf("second unlock: got %v, want nil", err)
	}
	select {
	case u := <-acquired:
		if u != nil {
			if err := u(ctx); err != nil {
				t.Error(err)
			}
		}
	case <-time.After(2 * time.Second):
		t.Fatal("second holder didn't get the lock within 2s of unlock")
	}
	if _, err := s.Lock(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Lock(\"\"): got %v, want ErrInvalid", err)
	}
}

func TestEmbeddedRestartKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	open := func() (*Embedded, *Store) {
		t.Helper()
		e, err := StartEmbedded(ctx, EmbeddedConfig{Dir: dir, ClientAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(ctx, Config{Endpoints: e.Endpoints()})
		if err != nil {
			e.Close()
			t.Fatal(err)
		}
		return e, s
	}
	e, s := open()
	mustCreateKeyspace(t, s, "ks", true)
	mustCreateShards(t, s, "ks", "-80", "80-")
	s.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}

	e, s = open()
	defer e.Close()
	defer s.Close()
	shards, err := s.ListShards(ctx, "ks")
	if err != nil || !slices.Equal(shardNames(shards), []string{"-80", "80-"}) {
		t.Errorf("shards after restart: got %v, %v, want [-80 80-]", shardNames(shards), err)
	}
}

func TestStartEmbeddedErrors(t *testing.T) {
	ctx := t.Context()
	if _, err := StartEmbedded(ctx, EmbeddedConfig{}); err == nil {
		t.Error("StartEmbedded without Dir: got no error, want one")
	}
	// The package's etcd holds its client port.
	addr := strings.TrimPrefix(testEndpoints(t)[0], "http://")
	if e, err := StartEmbedded(ctx, EmbeddedConfig{Dir: t.TempDir(), ClientAddr: addr}); !errors.Is(err, syscall.EADDRINUSE) {
		if e != nil {
			e.Close()
		}
		t.Errorf("StartEmbedded on busy %s: got %v, want EADDRINUSE (which makes it retry picked ports)", addr, err)
	}
}
