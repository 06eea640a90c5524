package reshard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/vindex"
)

// startRunner runs a runner in the background until the returned stop.
func (e *splitEnv) startRunner(t *testing.T, cfg Config) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cfg.Store, cfg.Conn, cfg.Logger = e.store, rootConn, tablettest.Logger(t)
	cfg.Interval = 50 * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewRunner(cfg).Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// sourceOf is the source shard owning customer id.
func (e *splitEnv) sourceOf(t *testing.T, id int64) string {
	kr, _ := vindex.ParseKeyRange("-80")
	if kr.Contains(e.keyspaceID(t, id)) {
		return "-80"
	}
	return "80-"
}

// targetOf is the target shard owning customer id.
func (e *splitEnv) targetOf(t *testing.T, id int64) string {
	for name := range e.targets {
		if kr, _ := vindex.ParseKeyRange(name); kr.Contains(e.keyspaceID(t, id)) {
			return name
		}
	}
	t.Fatalf("no target owns %d", id)
	return ""
}

// writer changes rows on the sources directly, as an application would
// through a gateway: inserts, updates, deletes, and updates of the
// sharding column that move a row to another target (within its source).
type writer struct {
	e     *splitEnv
	conns map[string]*tablet.Conn
	rng   *rand.Rand
	next  int64 // next new customer id
	ops   int
	moved [][2]int64 // customer id before and after a move
	xaID  int64      // the customer the committed XA transaction inserted
}

func (e *splitEnv) newWriter(t *testing.T, seed uint64) *writer {
	w := &writer{e: e, conns: map[string]*tablet.Conn{}, rng: rand.New(rand.NewPCG(seed, 1)), next: 100000 + int64(seed)*100000}
	for _, s := range []string{"-80", "80-"} {
		w.conns[s] = e.dial(t, e.cluster.Primary(testKeyspace, s).Mysqld.Addr())
	}
	t.Cleanup(func() {
		for _, c := range w.conns {
			c.Close()
		}
	})
	return w
}

// step makes one change.
func (w *writer) step(t *testing.T) {
	t.Helper()
	e := w.e
	id := int64(w.rng.IntN(customers) + 1)
	src := w.conns[e.sourceOf(t, id)]
	switch w.rng.IntN(6) {
	case 0, 1:
		n := w.next
		w.next++
		e.exec(t, w.conns[e.sourceOf(t, n)], fmt.Sprintf("INSERT INTO customer VALUES (%d, 'new %d', NULL, %d.5)", n, n, n))
	case 2:
		e.exec(t, src, fmt.Sprintf("UPDATE customer SET name = CONCAT(name, '+'), score = score + 1 WHERE id = %d", id))
	case 3:
		e.exec(t, src, fmt.Sprintf("DELETE FROM orders WHERE customer_id = %d", id))
	case 4:
		e.exec(t, src, fmt.Sprintf("UPDATE orders SET item = 'changed' WHERE customer_id = %d", id))
	case 5:
		// Move a row to another target of the same source by changing
		// its sharding column (the primary key here).
		n := w.next
		for e.sourceOf(t, n) != e.sourceOf(t, id) || e.targetOf(t, n) == e.targetOf(t, id) {
			n++
		}
		w.next = n + 1
		res := e.exec(t, src, fmt.Sprintf("UPDATE customer SET id = %d WHERE id = %d", n, id))
		if res != nil && res.RowsAffected == 1 {
			w.moved = append(w.moved, [2]int64{id, n})
		}
	}
	w.ops++
}

// xa commits one XA transaction and rolls back another on a source,
// with other transactions committing while they are prepared.
func (w *writer) xa(t *testing.T) {
	t.Helper()
	n := w.next
	for w.e.sourceOf(t, n) != "-80" {
		n++
	}
	w.next = n + 2
	xc := [2]*tablet.Conn{}
	for i := range xc {
		xc[i] = w.e.dial(t, w.e.cluster.Primary(testKeyspace, "-80").Mysqld.Addr())
		defer xc[i].Close()
	}
	for _, s := range []struct {
		c *tablet.Conn
		q string
	}{
		{xc[0], "XA START 'catchup-commit'"},
		{xc[0], fmt.Sprintf("INSERT INTO customer VALUES (%d, 'xa', NULL, 1)", n)},
		{xc[0], "UPDATE region SET name = 'Europa' WHERE code = 'eu'"},
		{xc[0], "XA END 'catchup-commit'"}, {xc[0], "XA PREPARE 'catchup-commit'"},
		{xc[1], "XA START 'catchup-rollback'"},
		{xc[1], fmt.Sprintf("INSERT INTO customer VALUES (%d, 'xa rolled back', NULL, 1)", n+1)},
		{xc[1], "XA END 'catchup-rollback'"}, {xc[1], "XA PREPARE 'catchup-rollback'"},
	} {
		w.e.exec(t, s.c, s.q)
	}
	for range 5 {
		w.step(t)
	}
	w.e.exec(t, xc[1], "XA ROLLBACK 'catchup-rollback'")
	w.e.exec(t, xc[0], "XA COMMIT 'catchup-commit'")
	w.e.exec(t, w.conns["80-"], "UPDATE region SET name = 'Europa' WHERE code = 'eu'")
	w.xaID = n
}

// sourcePositions returns each source's @@gtid_binlog_pos.
func (e *splitEnv) sourcePositions(t *testing.T) map[string]position {
	t.Helper()
	out := map[string]position{}
	for _, s := range []string{"-80", "80-"} {
		c := e.dial(t, e.cluster.Primary(testKeyspace, s).Mysqld.Addr())
		res := e.exec(t, c, "SELECT @@global.gtid_binlog_pos")
		c.Close()
		p, err := parsePosition(string(res.Rows[0][0]))
		if err != nil {
			t.Fatal(err)
		}
		out[s] = p
	}
	return out
}

// waitCaughtUp waits until every target's stored position of every source
// covers the source's binlog position, and status shows lag 0.
func (e *splitEnv) waitCaughtUp(t *testing.T, workflow string) {
	t.Helper()
	want := e.sourcePositions(t)
	deadline := time.Now().Add(time.Minute)
	for {
		behind := ""
		for name, m := range e.targets {
			c := e.dial(t, m.Addr())
			for s, p := range want {
				applied, _, ok, err := readPositions(t.Context(), c, testKeyspace, workflow, s)
				if err != nil {
					t.Fatal(err)
				}
				if !ok || !applied.covers(p) {
					behind = fmt.Sprintf("target %s: source %s applied %v, want %s", name, s, applied, p)
				}
			}
			c.Close()
		}
		w, err := e.store.GetWorkflow(t.Context(), testKeyspace, workflow)
		if err != nil {
			t.Fatal(err)
		}
		if w.State == topo.WorkflowError {
			t.Fatalf("workflow in state error: %s", w.Error)
		}
		st := StatusOf(w, time.Now())
		if behind == "" && st.LagSeconds != nil && *st.LagSeconds == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up after a minute: %s; status state %s lag %v", behind, st.State, st.LagSeconds)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkTargetsMatchSources checks directly on the shards that every row
// of the sources is on exactly the target owning it, equal, and that the
// targets hold nothing else; reference tables equal on every target.
func (e *splitEnv) checkTargetsMatchSources(t *testing.T) {
	t.Helper()
	queries := map[string]string{
		"customer": "SELECT id, id, name, HEX(note), score FROM customer ORDER BY id",
		"orders":   "SELECT customer_id, customer_id, seq, item FROM orders ORDER BY customer_id, seq",
		"region":   "SELECT code, code, name FROM region ORDER BY code",
	}
	for table, q := range queries {
		want := map[string]string{} // row → target owning it
		var refRows []string
		for _, s := range []string{"-80", "80-"} {
			c := e.dial(t, e.cluster.Primary(testKeyspace, s).Mysqld.Addr())
			for _, row := range e.exec(t, c, q).Rows {
				line := rowText(row[1:])
				if table == "region" {
					if s == "-80" {
						refRows = append(refRows, line)
					}
					continue
				}
				var id int64
				fmt.Sscan(string(row[0]), &id)
				want[line] = e.targetOf(t, id)
			}
			c.Close()
		}
		got := map[string]string{}
		for name, m := range e.targets {
			c := e.dial(t, m.Addr())
			var rows []string
			for _, row := range e.exec(t, c, q).Rows {
				line := rowText(row[1:])
				rows = append(rows, line)
				if other, dup := got[line]; dup && table != "region" {
					t.Errorf("%s row %s is on both %s and %s", table, line, other, name)
				}
				got[line] = name
			}
			c.Close()
			if table == "region" && !slices.Equal(rows, refRows) {
				t.Errorf("target %s: reference table region: got %q, want %q", name, rows, refRows)
			}
		}
		if table == "region" {
			continue
		}
		for line, tgt := range want {
			if got[line] != tgt {
				t.Errorf("%s row %s: got on target %q, want on %s", table, line, got[line], tgt)
			}
		}
		for line, tgt := range got {
			if _, ok := want[line]; !ok {
				t.Errorf("%s row %s is on target %s but on no source", table, line, tgt)
			}
		}
		t.Logf("%s: %d rows on the sources, %d on the targets", table, len(want), len(got))
	}
}

func rowText(row [][]byte) string {
	parts := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = string(v)
		}
	}
	return strings.Join(parts, "|")
}

func TestCatchupAppliesWritesDuringAndAfterCopy(t *testing.T) {
	e := startSplitEnv(t)
	e.create(t)
	w := e.newWriter(t, 1)
	for range 50 {
		w.step(t) // after create, before the copy's snapshot
	}
	e.startRunner(t, Config{ID: "runner-1", ChunkRows: 300, AfterChunk: func(_, _, _ string, p topo.CopyProgress) {
		time.Sleep(20 * time.Millisecond) // let the writer interleave with the copy
	}})
	// Writes during the copy and the catch-up.
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for time.Now().Before(deadline) {
		w.step(t)
		if w.ops%20 != 0 {
			continue
		}
		wf, err := e.store.GetWorkflow(t.Context(), testKeyspace, "split")
		if err != nil {
			t.Fatal(err)
		}
		if wf.State == topo.WorkflowError {
			t.Fatalf("workflow error: %s", wf.Error)
		}
		if wf.State == topo.WorkflowRunning && w.ops > 300 {
			break
		}
	}
	t.Logf("copied in %v with %d concurrent changes", time.Since(start), w.ops)
	w.xa(t)
	for range 100 {
		w.step(t)
	}
	caught := time.Now()
	e.waitCaughtUp(t, "split")
	t.Logf("caught up %v after the last change", time.Since(caught))
	e.checkTargetsMatchSources(t)
	if len(w.moved) == 0 {
		t.Errorf("the writer moved no row between targets")
	}
	// The XA transaction committed once, the rolled-back one not at all.
	for name, m := range e.targets {
		c := e.dial(t, m.Addr())
		if res := e.exec(t, c, "SELECT COUNT(*) FROM customer WHERE name LIKE 'xa%'"); name == e.targetOf(t, w.xaID) {
			if string(res.Rows[0][0]) != "1" {
				t.Errorf("target %s: got %s rows of the committed XA transaction, want 1", name, res.Rows[0][0])
			}
		} else if string(res.Rows[0][0]) != "0" {
			t.Errorf("target %s: got %s XA rows, want 0", name, res.Rows[0][0])
		}
		c.Close()
	}
	wf, _ := e.store.GetWorkflow(t.Context(), testKeyspace, "split")
	st := StatusOf(wf, time.Now())
	t.Logf("writer: %d changes, %d rows moved; status: state %s, rows applied %d, lag %v", w.ops, len(w.moved), st.State, st.RowsApplied, *st.LagSeconds)
	if st.RowsApplied == 0 {
		t.Errorf("status rows_applied: got 0, want the changes applied")
	}
}
