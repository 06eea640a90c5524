package reshard

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
)

// TestCancelStopsCopy: a cancel in the middle of the copy stops the
// runner (it saves no progress after it), leaves the workflow cancelled,
// and takes the targets out of the topology while the sources keep
// serving.
//
// "After" is judged in etcd, not by hook order: two source shards copy at
// once, and the other shard's save can commit before the cancel while its
// hook runs after the cancelling one.
func TestCancelStopsCopy(t *testing.T) {
	e := startSplitEnv(t)
	e.create(t)

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var mu sync.Mutex
	cancelled := false
	var atCancel map[string]int64 // rows copied per source shard when cancelled
	runner := NewRunner(Config{Store: e.store, Conn: rootConn, ID: "runner-1", ChunkRows: 200, Interval: 50 * time.Millisecond,
		Logger: tablettest.Logger(t),
		AfterChunk: func(_, _, _ string, p topo.CopyProgress) {
			mu.Lock()
			defer mu.Unlock()
			if cancelled || p.RowsCopied == 0 {
				return
			}
			w, err := Cancel(ctx, e.store, testKeyspace, "split")
			if err != nil {
				t.Errorf("Cancel: %v", err)
				return
			}
			cancelled, atCancel = true, copiedPerShard(w)
		}})
	done := make(chan struct{})
	go func() { defer close(done); runner.Run(ctx) }()
	// Give the runner time to go on, if it were to.
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		c := cancelled
		mu.Unlock()
		if c || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	stop()
	<-done

	mu.Lock()
	defer mu.Unlock()
	if !cancelled {
		t.Fatal("the copy never saved a chunk to cancel after")
	}
	w, err := e.store.GetWorkflow(t.Context(), testKeyspace, "split")
	if err != nil {
		t.Fatal(err)
	}
	if got := copiedPerShard(w); !maps.Equal(got, atCancel) {
		t.Errorf("the runner saved copy progress after cancel: rows copied per shard %v at cancel, %v at the end", atCancel, got)
	}
	if w.State != topo.WorkflowCancelled || w.RowsCopied() >= int64(e.rows) {
		t.Errorf("workflow after cancel: state %s, %d of %d rows copied; want cancelled, part copied", w.State, w.RowsCopied(), e.rows)
	}
	for _, name := range []string{"-40", "40-80", "80-c0", "c0-"} {
		if _, err := e.store.GetShard(t.Context(), testKeyspace, name); !errors.Is(err, topo.ErrNoNode) {
			t.Errorf("target shard %s after cancel: got %v, want it gone", name, err)
		}
	}
	srv, err := e.store.GetSrvKeyspace(t.Context(), testKeyspace)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Partitions[topo.TabletPrimary]; len(got) != 2 || got[0] != "-80" || got[1] != "80-" {
		t.Errorf("serving shards after cancel: %v, want [-80 80-]", got)
	}
}

// copiedPerShard is the copy progress of each source shard of w.
func copiedPerShard(w *topo.Workflow) map[string]int64 {
	m := map[string]int64{}
	for shard, p := range w.Copy {
		m[shard] = p.RowsCopied
	}
	return m
}
