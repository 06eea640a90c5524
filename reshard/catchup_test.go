package reshard

import (
	"context"
	"errors"
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

// TestCatchupVDiffDDL runs one split through its phases on one set of
// instances (starting them is the slow part): catch-up of writes made
// during and after the copy, vdiff while writes go on, vdiff finding
// planted differences, and DDL on a source stopping the workflow.
func TestCatchupVDiffDDL(t *testing.T) {
	e := startSplitEnv(t)
	// The runner runs for the whole test, not only the first subtest.
	t.Run("catch-up", func(st *testing.T) { testCatchup(st, e, t) })
	if t.Failed() {
		return
	}
	t.Run("vdiff clean under writes", func(t *testing.T) { testVDiffClean(t, e) })
	t.Run("vdiff finds differences", func(t *testing.T) { testVDiffFinds(t, e) })
	t.Run("DDL stops the workflow", func(t *testing.T) { testDDLStops(t, e) })
}

func testCatchup(t *testing.T, e *splitEnv, parent *testing.T) {
	e.create(t)
	w := e.newWriter(t, 1)
	for range 50 {
		w.step(t) // after create, before the copy's snapshot
	}
	e.startRunner(parent, Config{ID: "runner-1", ChunkRows: 300, AfterChunk: func(_, _, _ string, p topo.CopyProgress) {
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
	// A burst: 2,000 new rows in 100-row transactions on both sources;
	// how long until the targets have them (measured, not asserted).
	burstStart := time.Now()
	var vals = map[string][]string{}
	for range 2000 {
		n := w.next
		w.next++
		s := e.sourceOf(t, n)
		vals[s] = append(vals[s], fmt.Sprintf("(%d, 'burst', NULL, 1)", n))
	}
	for s, v := range vals {
		for _, part := range slices.Collect(slices.Chunk(v, 100)) {
			e.exec(t, w.conns[s], "INSERT INTO customer VALUES "+strings.Join(part, ","))
		}
	}
	written := time.Since(burstStart)
	e.waitCaughtUp(t, "split")
	t.Logf("burst of 2000 rows: written on the sources in %v, on the targets %v after the first write (%.0f rows/s)",
		written.Round(time.Millisecond), time.Since(burstStart).Round(time.Millisecond), 2000/time.Since(burstStart).Seconds())
	wf, _ := e.store.GetWorkflow(t.Context(), testKeyspace, "split")
	st := StatusOf(wf, time.Now())
	t.Logf("writer: %d changes, %d rows moved; status: state %s, rows applied %d, lag %v", w.ops, len(w.moved), st.State, st.RowsApplied, *st.LagSeconds)
	if st.RowsApplied == 0 {
		t.Errorf("status rows_applied: got 0, want the changes applied")
	}
}

func (e *splitEnv) vdiff(t *testing.T) *VDiffReport {
	t.Helper()
	rep, err := VDiff(t.Context(), VDiffConfig{Store: e.store, Conn: rootConn, ChunkRows: 500, Logger: tablettest.Logger(t)}, testKeyspace, "split")
	if err != nil {
		t.Fatalf("VDiff: %v", err)
	}
	for _, td := range rep.Tables {
		t.Logf("vdiff %s: sources %v targets %v missing %d extra %d different %d %q", td.Table, td.SourceRows, td.TargetRows, td.Missing, td.Extra, td.Different, td.FirstDiffs)
	}
	return rep
}

func testVDiffClean(t *testing.T, e *splitEnv) {
	// The writer keeps changing the sources while vdiff runs: both sides
	// are compared at one position, so it is clean all the same.
	w := e.newWriter(t, 2)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				w.step(t)
			}
		}
	}()
	stopWriter := sync.OnceFunc(func() { close(stop); <-done })
	defer stopWriter()
	rep := e.vdiff(t)
	stopWriter()
	if !rep.Clean {
		t.Fatalf("vdiff while writing: got differences, want clean")
	}
	var src, tgt int64
	for _, td := range rep.Tables {
		if td.Reference {
			continue
		}
		for _, n := range td.SourceRows {
			src += n
		}
		for _, n := range td.TargetRows {
			tgt += n
		}
	}
	if src == 0 || src != tgt {
		t.Errorf("vdiff rows: got %d on the sources, %d on the targets; want equal and more than 0", src, tgt)
	}
	t.Logf("vdiff of %d rows while %d changes were made: %.2fs (positions %v)", src, w.ops, rep.Seconds, rep.Positions)
	w2, _ := e.store.GetWorkflow(t.Context(), testKeyspace, "split")
	if w2.VDiff != nil {
		t.Errorf("the vdiff request is still in the workflow: %+v", w2.VDiff)
	}
	e.waitCaughtUp(t, "split") // catch-up went on after the vdiff
}

func testVDiffFinds(t *testing.T, e *splitEnv) {
	// Plant on the targets: a changed row, a missing row, a row on a
	// target that doesn't own it, and a changed reference row.
	var changed, missing, misplaced int64
	for id := int64(1); id <= customers && (changed == 0 || missing == 0 || misplaced == 0); id++ {
		c := e.dial(t, e.targets[e.targetOf(t, id)].Addr())
		if len(e.exec(t, c, fmt.Sprintf("SELECT 1 FROM customer WHERE id = %d", id)).Rows) == 1 {
			switch {
			case changed == 0:
				changed = id
				e.exec(t, c, fmt.Sprintf("UPDATE customer SET score = -1 WHERE id = %d", id))
			case missing == 0:
				missing = id
				e.exec(t, c, fmt.Sprintf("DELETE FROM customer WHERE id = %d", id))
			default:
				misplaced = id
				other := "-40"
				if e.targetOf(t, id) == "-40" {
					other = "c0-"
				}
				oc := e.dial(t, e.targets[other].Addr())
				e.exec(t, oc, fmt.Sprintf("INSERT INTO customer SELECT * FROM (SELECT %d, 'misplaced', NULL, 1) x", id))
				oc.Close()
			}
		}
		c.Close()
	}
	c := e.dial(t, e.targets["80-c0"].Addr())
	e.exec(t, c, "UPDATE region SET name = 'Korea?' WHERE code = 'kr'")
	c.Close()

	rep := e.vdiff(t)
	if rep.Clean {
		t.Fatalf("vdiff after planting differences: got clean")
	}
	want := map[string]TableDiff{
		"customer": {Missing: 1, Extra: 1, Different: 1},
		"orders":   {},
		"region":   {Different: 1},
	}
	for _, td := range rep.Tables {
		w := want[td.Table]
		if td.Missing != w.Missing || td.Extra != w.Extra || td.Different != w.Different {
			t.Errorf("table %s: got missing %d extra %d different %d, want %d %d %d", td.Table, td.Missing, td.Extra, td.Different, w.Missing, w.Extra, w.Different)
		}
		if td.Table == "customer" {
			diffs := strings.Join(td.FirstDiffs, "; ")
			for _, id := range []int64{changed, missing, misplaced} {
				if !strings.Contains(diffs, fmt.Sprintf("(id)=(%d)", id)) {
					t.Errorf("customer first diffs %q: want key %d among them", diffs, id)
				}
			}
		}
	}
}

func testDDLStops(t *testing.T, e *splitEnv) {
	c := e.dial(t, e.cluster.Primary(testKeyspace, "80-").Mysqld.Addr())
	e.exec(t, c, "ALTER TABLE customer ADD COLUMN extra INT")
	c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		w, err := e.store.GetWorkflow(t.Context(), testKeyspace, "split")
		if err != nil {
			t.Fatal(err)
		}
		if w.State == topo.WorkflowError {
			if st := StatusOf(w, time.Now()); !strings.Contains(st.Error, "DDL on source shard 80-") || !strings.Contains(st.Error, "ALTER TABLE customer") {
				t.Errorf("status error: got %q, want it to name the DDL and the source shard", st.Error)
			}
			// vdiff refuses a workflow whose catch-up stopped.
			_, err := VDiff(t.Context(), VDiffConfig{Store: e.store, Conn: rootConn}, testKeyspace, "split")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(fmt.Sprint(err), "is error") {
				t.Errorf("vdiff of a workflow in error: got %v, want ErrInvalid saying it is in error", err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after DDL on a source: workflow state %s (error %q), want error", w.State, w.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
