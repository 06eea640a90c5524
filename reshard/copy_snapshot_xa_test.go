package reshard

import (
	"fmt"
	"sync"
	"testing"
)

// TestXAPreparedBeforeSnapshotCommittedAfter: an XA (2PC) transaction
// prepared on a source just before the copy's snapshot and committed
// just after, before the copy checks XA RECOVER again: its rows are in
// neither the snapshot nor the events after it. Catch-up read from the
// snapshot's position and stopped the workflow in error ("its XA PREPARE
// is before the position catch-up started from"; seen in CI as
// TestMergeWorkflow failing); it now reads from a position taken before
// the snapshot and applies the rows at the XA COMMIT.
func TestXAPreparedBeforeSnapshotCommittedAfter(t *testing.T) {
	e := startSplitEnv(t)
	e.create(t)
	id := int64(900001)
	for e.sourceOf(t, id) != "80-" {
		id++
	}
	xc := e.dial(t, e.cluster.Primary(testKeyspace, "80-").Mysqld.Addr())
	defer xc.Close()
	var mu sync.Mutex
	var prepared, committed bool
	var hookErr error
	run := func(queries ...string) {
		for _, q := range queries {
			if _, err := xc.Execute(t.Context(), q); err != nil && hookErr == nil {
				hookErr = fmt.Errorf("%s: %w", q, err)
			}
		}
	}
	e.startRunner(t, Config{ID: "runner-1", AroundCopySnapshot: func(shard string, taken bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case shard != "80-":
		case !taken && !prepared:
			prepared = true
			run("XA START 'across-snapshot'", fmt.Sprintf("INSERT INTO customer VALUES (%d, 'xa across snapshot', NULL, 1)", id),
				"XA END 'across-snapshot'", "XA PREPARE 'across-snapshot'")
		case taken && prepared && !committed:
			committed = true
			run("XA COMMIT 'across-snapshot'")
		}
	}})
	w := e.newWriter(t, 3)
	for range 40 {
		w.step(t) // changes on both sources, so every target stores a position
	}
	e.waitCaughtUp(t, "split")
	mu.Lock()
	if hookErr != nil || !committed {
		t.Fatalf("the XA transaction across the snapshot: committed %v, %v", committed, hookErr)
	}
	mu.Unlock()
	target := e.targetOf(t, id)
	c := e.dial(t, e.targets[target].Addr())
	defer c.Close()
	if got := string(e.exec(t, c, fmt.Sprintf("SELECT COUNT(*) FROM customer WHERE id = %d", id)).Rows[0][0]); got != "1" {
		t.Errorf("target %s: got %s rows of the XA transaction committed after the snapshot, want 1", target, got)
	}
	e.checkTargetsMatchSources(t)
}
