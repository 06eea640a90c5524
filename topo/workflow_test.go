package topo

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestWorkflows(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	w := &Workflow{Keyspace: "ks", Name: "split", Kind: WorkflowReshard, State: WorkflowCopying,
		SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"}}
	if err := s.CreateWorkflow(ctx, w); !errors.Is(err, ErrNoNode) {
		t.Fatalf("CreateWorkflow without keyspace: got %v, want ErrNoNode", err)
	}
	if err := s.CreateKeyspace(ctx, Keyspace{Name: "ks", Sharded: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWorkflow(ctx, w); err != nil {
		t.Fatalf("CreateWorkflow: %v", err)
	}
	if err := s.CreateWorkflow(ctx, w); !errors.Is(err, ErrNodeExists) {
		t.Fatalf("CreateWorkflow twice: got %v, want ErrNodeExists", err)
	}
	bad := *w
	bad.Name, bad.State = "bad", "sleeping"
	if err := s.CreateWorkflow(ctx, &bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CreateWorkflow with state %q: got %v, want ErrInvalid", bad.State, err)
	}

	err := s.UpdateWorkflow(ctx, "ks", "split", func(w *Workflow) error {
		w.Copy = map[string]*CopyProgress{"-80": {Table: "t", LastPK: []string{"42"}, RowsCopied: 10, RowsTotal: 30}}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateWorkflow: %v", err)
	}
	got, err := s.GetWorkflow(ctx, "ks", "split")
	if err != nil {
		t.Fatal(err)
	}
	if got.RowsCopied() != 10 || got.RowsTotal() != 30 || got.Copy["-80"].LastPK[0] != "42" {
		t.Fatalf("GetWorkflow: got %+v, want the progress saved", got.Copy["-80"])
	}
	err = s.UpdateWorkflow(ctx, "ks", "split", func(w *Workflow) error { w.Kind = WorkflowMoveTables; return nil })
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("UpdateWorkflow changing kind: got %v, want ErrInvalid", err)
	}

	// A guard that doesn't hold fails at once with ErrBadVersion.
	guard := clientv3.Compare(clientv3.CreateRevision(s.Root()+"/no-such-leader"), ">", 0)
	err = s.UpdateWorkflow(ctx, "ks", "split", func(w *Workflow) error { w.State = WorkflowError; return nil }, guard)
	if !errors.Is(err, ErrBadVersion) {
		t.Fatalf("UpdateWorkflow with a failing guard: got %v, want ErrBadVersion", err)
	}

	list, err := s.ListWorkflows(ctx)
	if err != nil || len(list) != 1 || list[0].State != WorkflowCopying {
		t.Fatalf("ListWorkflows: got %v, %v; want the one workflow, still copying", list, err)
	}
	if err := s.DeleteWorkflow(ctx, "ks", "split"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWorkflow(ctx, "ks", "split"); !errors.Is(err, ErrNoNode) {
		t.Fatalf("GetWorkflow after delete: got %v, want ErrNoNode", err)
	}
}

// TestWorkflowWritesDeliverNoSnapshot: copy progress is saved after every
// chunk, and a distributed commit writes and deletes its decision record;
// gateways watching the topology must not rebuild a snapshot for either.
func TestWorkflowWritesDeliverNoSnapshot(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	if err := s.CreateKeyspace(ctx, Keyspace{Name: "ks", Sharded: true}); err != nil {
		t.Fatal(err)
	}
	snaps := make(chan *Snapshot, 100)
	done := make(chan error, 1)
	go func() { done <- s.WatchSnapshots(ctx, func(snap *Snapshot) { snaps <- snap }) }()
	defer func() { cancel(); <-done }()
	<-snaps // the first, at once
	w := &Workflow{Keyspace: "ks", Name: "split", Kind: WorkflowReshard, State: WorkflowCopying,
		SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"}}
	if err := s.CreateWorkflow(ctx, w); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		err := s.UpdateWorkflow(ctx, "ks", "split", func(w *Workflow) error {
			w.Copy = map[string]*CopyProgress{"-80": {RowsCopied: int64(i)}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Client().Put(ctx, s.ReshardElectionPrefix()+"/x", "runner"); err != nil {
		t.Fatal(err)
	}
	// Two-phase commit's decision records: one written and deleted per
	// distributed commit (package twopc keeps them under the root).
	for i := range 5 {
		key := fmt.Sprintf("%s/twopc/tx/dtid-%d", s.root, i)
		if _, err := s.Client().Put(ctx, key, `{"state":"commit"}`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Client().Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case snap := <-snaps:
		t.Fatalf("workflow writes delivered a snapshot at revision %d, want none", snap.Revision)
	case <-time.After(4 * watchDebounce):
	}
	// A routing change still does.
	if err := s.CreateShard(ctx, &Shard{Keyspace: "ks", Name: "-80"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-snaps:
	case <-time.After(5 * time.Second):
		t.Fatal("a new shard delivered no snapshot")
	}
}
