package topo

import (
	"errors"
	"slices"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestFlipServing: the sources stop serving, the targets start, the
// serving graph follows (the workflow's read switch dropped, another's
// kept) and the workflow changes, all in one write; a failing guard or fn
// changes nothing.
func TestFlipServing(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.CreateKeyspace(ctx, Keyspace{Name: "ks", Sharded: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"-80", "80-", "-40", "40-80"} {
		if err := s.CreateShard(ctx, &Shard{Keyspace: "ks", Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	w := &Workflow{Keyspace: "ks", Name: "split", Kind: WorkflowReshard, State: WorkflowReadsSwitched,
		SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"}}
	if err := s.CreateWorkflow(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := s.SetReadSwitch(ctx, "ks", &ReadSwitch{Workflow: "split", Shards: []string{"-40", "40-80", "80-"}, Per10000: ReadSwitchScale}); err != nil {
		t.Fatal(err)
	}
	serving := func() []string {
		t.Helper()
		srv, err := s.GetSrvKeyspace(ctx, "ks")
		if err != nil {
			t.Fatal(err)
		}
		return srv.Partitions[TabletPrimary]
	}

	guard := clientv3.Compare(clientv3.CreateRevision(s.Root()+"/no-such-leader"), ">", 0)
	flip := func(w *Workflow) error { w.State = WorkflowWritesSwitched; return nil }
	if err := s.FlipServing(ctx, "ks", "split", []string{"-80"}, []string{"-40", "40-80"}, flip, guard); !errors.Is(err, ErrBadVersion) {
		t.Fatalf("FlipServing with a failing guard: got %v, want ErrBadVersion", err)
	}
	refuse := errors.New("no")
	if err := s.FlipServing(ctx, "ks", "split", []string{"-80"}, []string{"-40", "40-80"}, func(*Workflow) error { return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("FlipServing with fn failing: got %v, want its error", err)
	}
	if got := serving(); !slices.Equal(got, []string{"-80", "80-"}) {
		t.Fatalf("after failed flips the graph serves %v, want -80, 80-", got)
	}

	if err := s.FlipServing(ctx, "ks", "split", []string{"-80"}, []string{"-40", "40-80"}, flip); err != nil {
		t.Fatalf("FlipServing: %v", err)
	}
	if got := serving(); !slices.Equal(got, []string{"-40", "40-80", "80-"}) {
		t.Errorf("after the flip the graph serves %v, want -40, 40-80, 80-", got)
	}
	srv, _ := s.GetSrvKeyspace(ctx, "ks")
	if srv.ReadSwitch != nil {
		t.Errorf("after the flip the workflow's read switch stays: %+v", srv.ReadSwitch)
	}
	if sh, _ := s.GetShard(ctx, "ks", "-80"); sh.Serving {
		t.Errorf("after the flip source -80 serves")
	}
	if got, _ := s.GetWorkflow(ctx, "ks", "split"); got.State != WorkflowWritesSwitched {
		t.Errorf("after the flip the workflow is %s, want writes-switched", got.State)
	}
	// And back.
	if err := s.FlipServing(ctx, "ks", "split", []string{"-40", "40-80"}, []string{"-80"}, func(w *Workflow) error { w.State = WorkflowRunning; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := serving(); !slices.Equal(got, []string{"-80", "80-"}) {
		t.Errorf("after flipping back the graph serves %v, want -80, 80-", got)
	}
	if err := s.FlipServing(ctx, "ks", "split", []string{"-c0"}, nil, flip); !errors.Is(err, ErrNoNode) {
		t.Errorf("FlipServing of a missing shard: got %v, want ErrNoNode", err)
	}
}
