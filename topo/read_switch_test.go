package topo

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// TestReadSwitch: the switch is stored beside Partitions, survives a
// rebuild of the serving graph (a shard created, or made serving), and
// is removed by nil; bad shares are refused.
func TestReadSwitch(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	mustCreateKeyspace(t, s, "user", true)
	mustCreateShards(t, s, "user", "-80", "80-", "-40", "40-80")

	rs := &ReadSwitch{Workflow: "split", Shards: []string{"-40", "40-80", "80-"}, Per10000: 5000}
	if err := s.SetReadSwitch(ctx, "user", rs); err != nil {
		t.Fatalf("SetReadSwitch: %v", err)
	}
	for _, bad := range []int{0, -1, ReadSwitchScale + 1} {
		if err := s.SetReadSwitch(ctx, "user", &ReadSwitch{Shards: rs.Shards, Per10000: bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetReadSwitch(per_10000=%d): got %v, want ErrInvalid", bad, err)
		}
	}
	if err := s.SetReadSwitch(ctx, "nope", rs); !errors.Is(err, ErrNoNode) {
		t.Errorf("SetReadSwitch(missing keyspace): got %v, want ErrNoNode", err)
	}
	// A rebuild (a new, not serving shard) keeps the switch.
	mustCreateShards(t, s, "user", "80-c0")
	srv, err := s.GetSrvKeyspace(ctx, "user")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(srv.ReadSwitch, rs) {
		t.Errorf("after a rebuild: read switch %+v, want %+v", srv.ReadSwitch, rs)
	}
	if got, want := srv.Partitions[TabletPrimary], []string{"-80", "80-"}; !slices.Equal(got, want) {
		t.Errorf("partitions: got %v, want %v", got, want)
	}
	// The snapshot the gateways read carries it.
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Srv["user"].ReadSwitch; !reflect.DeepEqual(got, rs) {
		t.Errorf("snapshot: read switch %+v, want %+v", got, rs)
	}

	if err := s.SetReadSwitch(ctx, "user", nil); err != nil {
		t.Fatalf("SetReadSwitch(nil): %v", err)
	}
	if srv, err = s.GetSrvKeyspace(ctx, "user"); err != nil || srv.ReadSwitch != nil {
		t.Errorf("after removing: read switch %+v (err %v), want none", srv.ReadSwitch, err)
	}
}

// TestDeleteShard: a shard that doesn't serve can be deleted, a serving
// one can't.
func TestDeleteShard(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	mustCreateKeyspace(t, s, "user", true)
	mustCreateShards(t, s, "user", "-80", "80-", "-40")
	if err := s.DeleteShard(ctx, "user", "-80"); !errors.Is(err, ErrInvalid) {
		t.Errorf("DeleteShard(serving -80): got %v, want ErrInvalid", err)
	}
	if err := s.DeleteShard(ctx, "user", "-40"); err != nil {
		t.Fatalf("DeleteShard(-40): %v", err)
	}
	if err := s.DeleteShard(ctx, "user", "-40"); !errors.Is(err, ErrNoNode) {
		t.Errorf("DeleteShard(-40) again: got %v, want ErrNoNode", err)
	}
	shards, err := s.ListShards(ctx, "user")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := shardNames(shards), []string{"-80", "80-"}; !slices.Equal(got, want) {
		t.Errorf("shards after delete: got %v, want %v", got, want)
	}
}
