package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/vindex"
)

// ackWriter inserts, updates and deletes customers through the gateway
// and records every acknowledged write: acked[id] is the name the last
// acknowledged write left (deleted: absent, in gone). A write that failed
// may or may not have happened: its id is uncertain and not checked.
type ackWriter struct {
	db *sql.DB

	mu        sync.Mutex // held during each write, so a check sees no write half-recorded
	acked     map[int64]string
	gone      map[int64]bool
	uncertain map[int64]bool
	next      int64
	writes    int
	errs      []string

	stop chan struct{}
	done chan struct{}
}

func startAckWriter(db *sql.DB) *ackWriter {
	w := &ackWriter{db: db, acked: map[int64]string{}, gone: map[int64]bool{}, uncertain: map[int64]bool{},
		next: 10000, stop: make(chan struct{}), done: make(chan struct{})}
	for id := int64(1); id <= switchCustomers; id++ {
		w.acked[id] = "source"
	}
	go w.run()
	return w
}

func (w *ackWriter) run() {
	defer close(w.done)
	rng := rand.New(rand.NewPCG(1, 2))
	for seq := 0; ; seq++ {
		select {
		case <-w.stop:
			return
		case <-time.After(3 * time.Millisecond):
		}
		w.mu.Lock()
		name := fmt.Sprintf("w%d", seq)
		var id int64
		var err error
		switch {
		case seq%3 == 0:
			id = w.next
			w.next++
			_, err = w.db.Exec("INSERT INTO customer (id, name) VALUES (?, ?)", id, name)
		case seq%7 == 1:
			id = w.pick(rng)
			_, err = w.db.Exec("DELETE FROM customer WHERE id = ?", id)
			name = ""
		default:
			id = w.pick(rng)
			_, err = w.db.Exec("UPDATE customer SET name = ? WHERE id = ?", name, id)
		}
		switch {
		case err != nil:
			w.uncertain[id] = true
			if len(w.errs) < 20 {
				w.errs = append(w.errs, err.Error())
			}
		case name == "":
			delete(w.acked, id)
			w.gone[id] = true
		case !w.gone[id]:
			w.acked[id] = name // an UPDATE of a deleted row changes nothing
		}
		w.writes++
		w.mu.Unlock()
	}
}

// pick is a random id the writer has written or the set-up inserted.
func (w *ackWriter) pick(rng *rand.Rand) int64 {
	if rng.IntN(2) == 0 {
		return 1 + rng.Int64N(switchCustomers)
	}
	return 10000 + rng.Int64N(max(1, w.next-10000))
}

func (w *ackWriter) finish() {
	close(w.stop)
	<-w.done
}

// shardRows reads every customer of one shard's primary: id → name.
func shardRows(t *testing.T, addr string) map[int64]string {
	t.Helper()
	cc := tablet.ConnConfig{Addr: addr, User: tablet.RootUser, DB: "ks"}
	conn, err := tablet.Dial(t.Context(), cc)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	res, err := conn.Execute(t.Context(), "SELECT id, name FROM customer")
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	out := map[int64]string{}
	for _, row := range res.Rows {
		id, _ := strconv.ParseInt(string(row[0]), 10, 64)
		out[id] = string(row[1])
	}
	return out
}

// sideMismatches compares one side's shards (by name → primary address)
// with the acknowledged writes: every acknowledged row on the shard that
// owns its keyspace id with its acknowledged name, no deleted one, none
// on a shard that doesn't own it. It returns the differences.
func (w *ackWriter) sideMismatches(t *testing.T, hash vindex.Functional, shards map[string]string) []string {
	t.Helper()
	var diffs []string
	found := map[int64]string{}
	for shard, addr := range shards {
		kr, err := vindex.ParseKeyRange(shard)
		if err != nil {
			t.Fatal(err)
		}
		for id, name := range shardRows(t, addr) {
			ksid, err := hash.Map(id)
			if err != nil {
				t.Fatal(err)
			}
			if !kr.Contains(ksid) {
				diffs = append(diffs, fmt.Sprintf("id %d on shard %s, which doesn't own it", id, shard))
			}
			found[id] = name
		}
	}
	for id, want := range w.acked {
		if w.uncertain[id] {
			continue
		}
		if got, ok := found[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("id %d: missing, want name %q", id, want))
		} else if got != want {
			diffs = append(diffs, fmt.Sprintf("id %d: name %q, want %q", id, got, want))
		}
	}
	for id := range w.gone {
		if _, ok := found[id]; ok && !w.uncertain[id] {
			diffs = append(diffs, fmt.Sprintf("id %d: deleted (acknowledged) but present", id))
		}
	}
	slices.Sort(diffs)
	return diffs
}

// waitSide waits until one side holds exactly the acknowledged writes
// (the writer paused), failing after within.
func (w *ackWriter) waitSide(t *testing.T, what string, hash vindex.Functional, shards map[string]string, within time.Duration) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	deadline := time.Now().Add(within)
	for {
		diffs := w.sideMismatches(t, hash, shards)
		if len(diffs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d differences from the acknowledged writes after %s, first: %v", what, len(diffs), within, diffs[:min(5, len(diffs))])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ctlAt runs shardctl against store's topology and returns its outputs
// and exit code.
func ctlAt(t *testing.T, store *topo.Store, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"--topo-endpoints", strings.Join(store.Client().Endpoints(), ","), "--topo-root", store.Root()}, args...)
	code := run(t.Context(), all, &out, &errb)
	return out.String(), errb.String(), code
}

// readOnly reports @@read_only of an instance.
func readOnly(t *testing.T, addr string) bool {
	t.Helper()
	conn, err := tablet.Dial(t.Context(), tablet.ConnConfig{Addr: addr, User: tablet.RootUser})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	res, err := conn.Execute(t.Context(), "SELECT @@global.read_only")
	if err != nil {
		t.Fatal(err)
	}
	return string(res.Rows[0][0]) == "1"
}

func (e *switchEnv) status(t *testing.T) reshard.Status {
	t.Helper()
	var st reshard.Status
	out := mustCtlAt(t, e.store(), "reshard", "status", "--keyspace", "ks", "--workflow", "split", "--format", "json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status json: %v\n%s", err, out)
	}
	return st
}

func (e *switchEnv) primaries(t *testing.T) []string {
	t.Helper()
	srv, err := e.store().GetSrvKeyspace(t.Context(), "ks")
	if err != nil {
		t.Fatal(err)
	}
	return srv.Partitions[topo.TabletPrimary]
}

// TestSwitchWritesEndToEnd: a 2 → 4 split with a controller running and a
// writer inserting, updating and deleting through the gateway the whole
// time. A gateway that never acknowledges (registered, deaf) makes
// switch-traffic --writes abort: exit 1 naming it, writes still on the
// sources (writable, serving), nothing lost. Then writes switch to the
// targets (each acknowledged write on the target owning it, and back on
// the sources through reverse replication), reverse-traffic sends them
// back, a second switch-traffic moves them again, and complete removes
// the sources. The writer's statements are the same few normalised
// texts throughout, so the plan cache serves them across every flip.
func TestSwitchWritesEndToEnd(t *testing.T) {
	e := newSwitchEnv(t, false)
	ctx := t.Context()
	store := e.store()
	snap, err := store.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hash := snap.VSchema.Keyspaces["ks"].Vindexes["hash"].(vindex.Functional)
	sources := map[string]string{}
	for _, s := range []string{"-80", "80-"} {
		sources[s] = e.env.Cluster.Primary("ks", s).Mysqld.Addr()
	}
	targets := map[string]string{}
	for name, m := range e.targets {
		targets[name] = m.Addr()
	}

	rctx, stopRunner := context.WithCancel(ctx)
	runnerDone := make(chan struct{})
	go func() {
		defer close(runnerDone)
		reshard.NewRunner(reshard.Config{Store: store, Conn: tablet.ConnConfig{User: tablet.RootUser}, ID: "writes",
			Interval: 100 * time.Millisecond, Logger: tablettest.Logger(t)}).Run(rctx)
	}()
	defer func() { stopRunner(); <-runnerDone }()

	w := startAckWriter(e.gw)
	defer func() {
		select {
		case <-w.done:
		default:
			w.finish()
		}
	}()
	time.Sleep(time.Second)

	t.Run("deaf gateway aborts", func(t *testing.T) {
		unregister, err := store.RegisterGateway(ctx, "deaf-gateway")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, errs, code := ctlAt(t, store, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--writes", "--timeout", "3s")
		if err := unregister(ctx); err != nil {
			t.Fatal(err)
		}
		if code != exitError || !strings.Contains(errs, "deaf-gateway") {
			t.Fatalf("switch-traffic --writes with a deaf gateway: exit %d (%s), want %d naming deaf-gateway", code, errs, exitError)
		}
		t.Logf("aborted after %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(errs))
		st := e.status(t)
		if st.State != topo.WorkflowRunning || st.WriteSwitch == nil || st.WriteSwitch.Phase != topo.SwitchFailed {
			t.Errorf("after the abort: state %s, switch %+v; want running, phase failed", st.State, st.WriteSwitch)
		}
		if got := e.primaries(t); !slices.Equal(got, []string{"-80", "80-"}) {
			t.Errorf("after the abort the serving graph has %v, want the sources -80, 80-", got)
		}
		for s, addr := range sources {
			if readOnly(t, addr) {
				t.Errorf("after the abort source %s is read-only, want writable", s)
			}
		}
		// Writes go on to the sources; everything acknowledged is there.
		time.Sleep(500 * time.Millisecond)
		w.waitSide(t, "sources after the abort", hash, sources, 0)
	})

	switchWrites := func(what string) {
		t.Helper()
		out := mustCtlAt(t, store, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--writes")
		st := e.status(t)
		t.Logf("%s: %s; write stall %.0f ms (longest %.0f ms)", what, strings.TrimSpace(out), st.WriteStallMs, st.MaxWriteStallMs)
		if st.State != topo.WorkflowWritesSwitched || st.WriteStallMs <= 0 || st.ReadPercent != 100 {
			t.Fatalf("%s: state %s, stall %v ms, read_percent %v; want writes-switched, a stall, 100", what, st.State, st.WriteStallMs, st.ReadPercent)
		}
		if got := e.primaries(t); !slices.Equal(got, []string{"-40", "40-80", "80-c0", "c0-"}) {
			t.Fatalf("%s: serving graph %v, want the targets", what, got)
		}
		for s, addr := range sources {
			if !readOnly(t, addr) {
				t.Errorf("%s: source %s is writable, want read-only", what, s)
			}
		}
		time.Sleep(time.Second)
		// Writes made after the switch are on the targets, each on its
		// owner; reverse replication brings them to the sources.
		w.waitSide(t, what+": targets", hash, targets, 0)
		w.waitSide(t, what+": sources (reverse replication)", hash, sources, 10*time.Second)
	}
	switchWrites("first switch")

	out := mustCtlAt(t, store, "reshard", "reverse-traffic", "--keyspace", "ks", "--workflow", "split")
	st := e.status(t)
	t.Logf("reverse: %s; write stall %.0f ms", strings.TrimSpace(out), st.WriteStallMs)
	if st.State != topo.WorkflowRunning || st.ReadPercent != 0 {
		t.Fatalf("after reverse-traffic: state %s, read_percent %v; want running, 0", st.State, st.ReadPercent)
	}
	if got := e.primaries(t); !slices.Equal(got, []string{"-80", "80-"}) {
		t.Fatalf("after reverse-traffic the serving graph has %v, want the sources", got)
	}
	time.Sleep(time.Second)
	w.waitSide(t, "reverse: sources", hash, sources, 0)
	w.waitSide(t, "reverse: targets (catch-up again)", hash, targets, 10*time.Second)

	switchWrites("second switch")
	w.finish()
	w.waitSide(t, "end: targets", hash, targets, 0)
	w.waitSide(t, "end: sources", hash, sources, 10*time.Second)

	out = mustCtlAt(t, store, "reshard", "complete", "--keyspace", "ks", "--workflow", "split")
	t.Logf("complete: %s", strings.TrimSpace(out))
	st = e.status(t)
	if st.State != topo.WorkflowCompleted {
		t.Errorf("after complete: state %s, want completed", st.State)
	}
	shards, err := store.ListShards(ctx, "ks")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range shards {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"-40", "40-80", "80-c0", "c0-"}) {
		t.Errorf("after complete the keyspace has shards %v, want only the targets", names)
	}
	for name, addr := range targets {
		conn, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: addr, User: tablet.RootUser})
		if err != nil {
			t.Fatal(err)
		}
		res, err := conn.Execute(ctx, "SELECT COUNT(*) FROM _shardgate.reshard_position WHERE workflow LIKE 'split%'")
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n := string(res.Rows[0][0]); n != "0" {
			t.Errorf("after complete target %s keeps %s position rows of the workflow, want 0", name, n)
		}
	}
	// The sources keep their data (no --drop) and the gateway still writes.
	if got := len(shardRows(t, sources["-80"])); got == 0 {
		t.Errorf("after complete without --drop source -80 has no rows, want its data kept")
	}
	var id int64 = 99999
	gwExec(t, e.gw, "INSERT INTO customer (id, name) VALUES (?, 'after')", id)
	ksid, _ := hash.Map(id)
	for name, addr := range targets {
		kr, _ := vindex.ParseKeyRange(name)
		if _, ok := shardRows(t, addr)[id]; ok != kr.Contains(ksid) {
			t.Errorf("after complete: id %d on target %s is %v, want %v", id, name, ok, kr.Contains(ksid))
		}
	}
	t.Logf("writer: %d writes, %d uncertain (failed), errors: %v", w.writes, len(w.uncertain), w.errs)
	if len(w.uncertain) > w.writes/20 {
		t.Errorf("%d of %d writes failed, want almost none (held writes are buffered, not refused): %v", len(w.uncertain), w.writes, w.errs)
	}
}

func gwExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
