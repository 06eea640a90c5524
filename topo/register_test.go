package topo

import (
	"errors"
	"testing"
)

func TestRegisterTablet(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	tab := &Tablet{Alias: TabletAlias{Cell: "zone1"}, Keyspace: "ks", Shard: "-80", Type: TabletPrimary, Host: "127.0.0.1", Port: 3306}
	if err := s.RegisterTablet(ctx, tab); !errors.Is(err, ErrNoNode) {
		t.Fatalf("RegisterTablet without keyspace: got %v, want ErrNoNode", err)
	}
	if err := s.CreateKeyspace(ctx, Keyspace{Name: "ks", Sharded: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateShard(ctx, &Shard{Keyspace: "ks", Name: "-"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterTablet(ctx, tab); err != nil {
		t.Fatalf("RegisterTablet: %v", err)
	}
	if tab.Alias.UID != 1 {
		t.Fatalf("first uid: got %d, want 1", tab.Alias.UID)
	}
	sh, err := s.GetShard(ctx, "ks", "-80")
	if err != nil {
		t.Fatal(err)
	}
	if sh.Serving || sh.PrimaryAlias == nil || *sh.PrimaryAlias != tab.Alias {
		t.Fatalf("shard -80 after RegisterTablet: got serving=%v primary=%v, want not serving, primary %v", sh.Serving, sh.PrimaryAlias, tab.Alias)
	}
	rep := &Tablet{Alias: TabletAlias{Cell: "zone1"}, Keyspace: "ks", Shard: "-80", Type: TabletReplica, Host: "127.0.0.1", Port: 3307}
	if err := s.RegisterTablet(ctx, rep); err != nil {
		t.Fatal(err)
	}
	if rep.Alias.UID != 2 {
		t.Fatalf("second uid: got %d, want 2", rep.Alias.UID)
	}
	sh, _ = s.GetShard(ctx, "ks", "-80")
	if *sh.PrimaryAlias != tab.Alias {
		t.Fatalf("a replica changed the primary to %v", sh.PrimaryAlias)
	}
	srv, err := s.GetSrvKeyspace(ctx, "ks")
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Partitions[TabletPrimary]; len(got) != 1 || got[0] != "-" {
		t.Fatalf("serving graph: got %v, want only shard -", got)
	}
}
