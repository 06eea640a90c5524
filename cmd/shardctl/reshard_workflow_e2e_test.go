package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// The workflow tests (issue 12's acceptance): a keyspace wf on -80,80-
// behind a gateway, a resharding controller running for the whole test,
// and a writer that inserts, updates and deletes rows through the gateway
// at a steady rate and remembers every write the gateway acknowledged.
// The tests drive the workflow with shardctl's verbs, as an operator
// would, and check the result on the shards directly.
const (
	wfKeyspace = "wf"
	wfWorkflow = "move"
	wfRows     = 600 // rows loaded before the workflow
)

// wfEnv is one workflow test's cluster, gateway, controller and targets.
type wfEnv struct {
	env     *gatewaytest.Env
	gw      *sql.DB
	hash    vindex.Functional
	sources []string
	targets map[string]*tablet.Mysqld
}

// startWorkflowEnv starts the cluster, the gateway and the targets, and
// a controller in this process unless controllers run as processes of
// their own (the kill test).
func startWorkflowEnv(t *testing.T, targets []string, inProcessController bool) *wfEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cfg := localcluster.Config{
		Dir: filepath.Join(t.TempDir(), "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{{Name: wfKeyspace, Shards: 2, VSchema: &vschema.Keyspace{
			Sharded:  true,
			Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			Tables: map[string]*vschema.Table{
				"account": {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}}},
			},
		}}},
		EtcdAddr: "127.0.0.1:0",
		Logger:   tablettest.Logger(t),
	}
	env, err := gatewaytest.Start(ctx, cfg, func(c *localcluster.Cluster) gateway.Config {
		return gateway.Config{ListenAddr: "127.0.0.1:0", Topo: c.Store}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	e := &wfEnv{env: env, sources: []string{"-80", "80-"}, targets: map[string]*tablet.Mysqld{}}
	snap, err := e.store().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.hash = snap.VSchema.Keyspaces[wfKeyspace].Vindexes["hash"].(vindex.Functional)
	e.gw = gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/%s", env.Gateway.Addr(), wfKeyspace))
	gatewaytest.MustExec(t, e.gw, "CREATE TABLE account (id BIGINT NOT NULL PRIMARY KEY, owner VARCHAR(32) NOT NULL, balance BIGINT NOT NULL)")
	var vals []string
	for id := 1; id <= wfRows; id++ {
		vals = append(vals, fmt.Sprintf("(%d, 'owner %d', %d)", id, id, id*10))
	}
	gatewaytest.MustExec(t, e.gw, "INSERT INTO account (id, owner, balance) VALUES "+strings.Join(vals, ","))

	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, name := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := tablettest.StartMysqld(t)
			mu.Lock()
			e.targets[name] = m
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, name := range targets {
		mustCtlAt(t, e.store(), "tablet", "add", "--keyspace", wfKeyspace, "--shard", name, "--type", "primary", "--address", e.targets[name].Addr())
	}
	if inProcessController {
		e.startController(t)
	}
	return e
}

func (e *wfEnv) store() *topo.Store { return e.env.Cluster.Store }

// startController runs a resharding controller until the test ends.
func (e *wfEnv) startController(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		reshard.NewRunner(reshard.Config{Store: e.store(), Conn: tablet.ConnConfig{User: tablet.RootUser}, ID: "wf-controller",
			Interval: 50 * time.Millisecond, ChunkRows: 200, Logger: tablettest.Logger(t)}).Run(ctx)
	}()
	// Registered after the cluster's cleanup, so it runs before it.
	t.Cleanup(func() { cancel(); <-done })
}

// ctl runs `shardctl reshard VERB --keyspace wf --workflow move ARGS...`.
func (e *wfEnv) ctl(t *testing.T, verb string, args ...string) string {
	t.Helper()
	return mustCtlAt(t, e.store(), append([]string{"reshard", verb, "--keyspace", wfKeyspace, "--workflow", wfWorkflow}, args...)...)
}

// waitWorkflow polls the workflow until done says so (or two minutes
// pass), failing on state error.
func (e *wfEnv) waitWorkflow(t *testing.T, what string, done func(reshard.Status) bool) reshard.Status {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		w, err := e.store().GetWorkflow(t.Context(), wfKeyspace, wfWorkflow)
		if err != nil {
			t.Fatal(err)
		}
		st := reshard.StatusOf(w, time.Now())
		if st.State == topo.WorkflowError {
			t.Fatalf("waiting for %s: workflow in state error: %s", what, st.Error)
		}
		if done(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: state %s, %d/%d rows copied, lag %v after two minutes", what, st.State, st.RowsCopied, st.RowsTotal, st.LagSeconds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// owner returns which of shards owns id's keyspace id.
func (e *wfEnv) owner(t *testing.T, id int64, shards []string) string {
	t.Helper()
	ksid, err := e.hash.Map(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shards {
		if kr, _ := vindex.ParseKeyRange(s); kr.Contains(ksid) {
			return s
		}
	}
	t.Fatalf("no shard of %v owns id %d", shards, id)
	return ""
}

// shardDB opens root's handle on a source's or a target's primary.
func (e *wfEnv) shardDB(t *testing.T, shard string) *sql.DB {
	t.Helper()
	if m, ok := e.targets[shard]; ok {
		return gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/%s", m.Addr(), wfKeyspace))
	}
	return e.env.ShardDB(t, wfKeyspace, shard, "")
}

// checkSide checks, on the shards of one side directly, that the table
// holds exactly what the writer's acknowledged writes say (rows whose
// last write had an unknown outcome are skipped), every row on the shard
// that owns it and on no other.
func (e *wfEnv) checkSide(t *testing.T, side string, shards []string, w *wfWriter) {
	t.Helper()
	want, unsure := w.expected()
	seen := map[int64]string{}
	for _, s := range shards {
		for _, r := range gatewaytest.QueryStrings(t, e.shardDB(t, s), "SELECT id, owner, balance FROM account") {
			id, _ := strconv.ParseInt(r[0], 10, 64)
			if other, dup := seen[id]; dup {
				t.Errorf("%s: account %d is on both %s and %s", side, id, other, s)
			}
			seen[id] = s
			if o := e.owner(t, id, shards); o != s {
				t.Errorf("%s: account %d is on %s, which doesn't own it (%s does)", side, id, s, o)
			}
			if unsure[id] {
				continue
			}
			got := r[1] + "|" + r[2]
			if exp, ok := want[id]; !ok {
				t.Errorf("%s: account %d is on %s (%s), want it deleted or never written", side, id, s, got)
			} else if got != exp {
				t.Errorf("%s: account %d on %s: got %s, want %s as acknowledged", side, id, s, got, exp)
			}
		}
	}
	missing := 0
	for id := range want {
		if _, ok := seen[id]; !ok && !unsure[id] {
			if missing++; missing <= 10 {
				t.Errorf("%s: account %d (%s) is on no shard of %v, want it as acknowledged", side, id, want[id], shards)
			}
		}
	}
	t.Logf("%s %v: %d rows checked against %d acknowledged writes (%d rows with an unknown last outcome skipped)",
		side, shards, len(seen), w.acked(), len(unsure))
}

// wfWriter writes through the gateway at a steady rate and keeps the
// table's expected content from the writes acknowledged: loaded rows,
// inserts, updates, deletes and two-row transactions (two shards, so
// 2PC, most of the time).
type wfWriter struct {
	e   *wfEnv
	rng *rand.Rand

	mu     sync.Mutex
	rows   map[int64]string // id → "owner|balance"; absent: deleted
	unsure map[int64]bool   // the last write's outcome is unknown
	next   int64
	nAcked int
	// errs are the failed writes; phase names the current phase (the
	// phases in order in phases), stalls the longest time a write took
	// in each.
	errs   []writeError
	phase  string
	stalls map[string]time.Duration
	phases []string
	// stop ends run's loop; stopped is closed when it has.
	stopped chan struct{}
	stop    chan struct{}
}

func (e *wfEnv) startWriter(t *testing.T) *wfWriter {
	w := &wfWriter{e: e, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3)), rows: map[int64]string{},
		unsure: map[int64]bool{}, next: 100000, stalls: map[string]time.Duration{}, phase: "start", phases: []string{"start"},
		stopped: make(chan struct{}), stop: make(chan struct{})}
	for id := int64(1); id <= wfRows; id++ {
		w.rows[id] = fmt.Sprintf("owner %d|%d", id, id*10)
	}
	go w.run()
	t.Cleanup(w.halt)
	return w
}

// setPhase names the phase the next writes' stalls count in.
func (w *wfWriter) setPhase(p string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phase = p
	w.phases = append(w.phases, p)
}

func (w *wfWriter) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.stopped
}

func (w *wfWriter) run() {
	defer close(w.stopped)
	for {
		select {
		case <-w.stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
		w.step()
	}
}

// step makes one write and records its outcome.
func (w *wfWriter) step() {
	w.mu.Lock()
	var ids []int64
	var stmts []string
	after := map[int64]string{} // the rows as the write leaves them ("" deleted)
	pick := func() int64 {
		for {
			id := int64(w.rng.IntN(wfRows) + 1)
			if w.rng.IntN(3) == 0 && w.next > 100000 {
				id = 100000 + w.rng.Int64N(w.next-100000)
			}
			if _, ok := w.rows[id]; ok && !slices.Contains(ids, id) {
				return id
			}
		}
	}
	switch op := w.rng.IntN(10); {
	case op < 4:
		id := w.next
		w.next++
		ids = append(ids, id)
		after[id] = fmt.Sprintf("new %d|%d", id, op)
		stmts = append(stmts, fmt.Sprintf("INSERT INTO account (id, owner, balance) VALUES (%d, 'new %d', %d)", id, id, op))
	case op < 7:
		id := pick()
		ids = append(ids, id)
		owner, bal, _ := strings.Cut(w.rows[id], "|")
		b, _ := strconv.ParseInt(bal, 10, 64)
		after[id] = fmt.Sprintf("%s|%d", owner, b+7)
		stmts = append(stmts, fmt.Sprintf("UPDATE account SET balance = balance + 7 WHERE id = %d", id))
	case op < 8:
		id := pick()
		ids = append(ids, id)
		after[id] = ""
		stmts = append(stmts, fmt.Sprintf("DELETE FROM account WHERE id = %d", id))
	default:
		// A transfer between two accounts: one transaction, usually on
		// two shards.
		a, b := pick(), int64(0)
		ids = append(ids, a)
		b = pick()
		ids = append(ids, b)
		for i, id := range []int64{a, b} {
			owner, bal, _ := strings.Cut(w.rows[id], "|")
			v, _ := strconv.ParseInt(bal, 10, 64)
			d := int64(-3 + 6*i)
			after[id] = fmt.Sprintf("%s|%d", owner, v+d)
			stmts = append(stmts, fmt.Sprintf("UPDATE account SET balance = balance + %d WHERE id = %d", d, id))
		}
	}
	phase := w.phase
	w.mu.Unlock()

	start := time.Now()
	err := w.exec(stmts)
	took := time.Since(start)

	w.mu.Lock()
	defer w.mu.Unlock()
	w.stalls[phase] = max(w.stalls[phase], took)
	switch {
	case err == nil:
		w.nAcked++
		for _, id := range ids {
			delete(w.unsure, id)
			if after[id] == "" {
				delete(w.rows, id)
			} else {
				w.rows[id] = after[id]
			}
		}
	case definitelyNotApplied(err):
		w.errs = append(w.errs, writeError{phase: phase, tx: len(stmts) > 1, err: err})
	default:
		// The outcome is unknown (the connection broke mid-commit):
		// don't check these rows, and don't write them again.
		w.errs = append(w.errs, writeError{phase: phase, tx: len(stmts) > 1, err: fmt.Errorf("outcome unknown: %w", err)})
		for _, id := range ids {
			w.unsure[id] = true
			delete(w.rows, id)
		}
	}
}

// exec runs one statement in autocommit, or several in a transaction.
func (w *wfWriter) exec(stmts []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if len(stmts) == 1 {
		_, err := w.e.gw.ExecContext(ctx, stmts[0])
		return err
	}
	tx, err := w.e.gw.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// definitelyNotApplied: the gateway answered with a MySQL error before
// any commit, so nothing of the write happened.
func definitelyNotApplied(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number != 1105
}

// expected returns the rows the acknowledged writes leave, and the ids
// whose last write had an unknown outcome.
func (w *wfWriter) expected() (map[int64]string, map[int64]bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rows := make(map[int64]string, len(w.rows))
	for id, v := range w.rows {
		rows[id] = v
	}
	unsure := make(map[int64]bool, len(w.unsure))
	for id := range w.unsure {
		unsure[id] = true
	}
	return rows, unsure
}

// execAcked runs one write of the test's own (the writer halted) and
// records it as acknowledged.
func (w *wfWriter) execAcked(t *testing.T, id int64, q, row string) {
	t.Helper()
	gatewaytest.MustExec(t, w.e.gw, q)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rows[id] = row
	w.nAcked++
}

// writeError is a write that failed: in which phase, whether it was a
// transaction of several statements.
type writeError struct {
	phase string
	tx    bool
	err   error
}

func (e writeError) Error() string {
	return fmt.Sprintf("%s (transaction %v): %v", e.phase, e.tx, e.err)
}

// takeErrors returns the failed writes so far and forgets them.
func (w *wfWriter) takeErrors() []writeError {
	w.mu.Lock()
	defer w.mu.Unlock()
	errs := w.errs
	w.errs = nil
	return errs
}

func (w *wfWriter) acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nAcked
}

// report logs the longest write of every phase.
func (w *wfWriter) report(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.phases {
		t.Logf("longest write while %s: %v", p, w.stalls[p].Round(time.Millisecond))
	}
	t.Logf("writer: %d writes acknowledged", w.nAcked)
}

// readSwitch runs switch-traffic --reads --percent p and checks the
// status says so.
func (e *wfEnv) readSwitch(t *testing.T, w *wfWriter, p string) {
	t.Helper()
	w.setPhase("reads at " + p + "%")
	e.ctl(t, "switch-traffic", "--reads", "--percent", p)
	want, _ := strconv.ParseFloat(p, 64)
	e.waitWorkflow(t, "read percent "+p, func(st reshard.Status) bool { return st.ReadPercent == want })
	// Let the writer and the gateway's sessions run at this share.
	time.Sleep(1500 * time.Millisecond)
}

// switchWrites runs a write switch verb (switch-traffic --writes or
// reverse-traffic) under the writer and logs its stall: the workflow's
// (hold placed to released) and the longest write the writer saw.
func (e *wfEnv) switchWrites(t *testing.T, w *wfWriter, phase string, args ...string) {
	t.Helper()
	w.setPhase(phase)
	out := e.ctl(t, args[0], args[1:]...)
	w.setPhase(phase + " done")
	st := e.waitWorkflow(t, phase, func(reshard.Status) bool { return true })
	t.Logf("%s: %s; the keyspace's writes held %.0f ms (longest hold so far %.0f ms)", phase, strings.TrimSpace(out), st.WriteStallMs, st.MaxWriteStallMs)
	time.Sleep(time.Second)
}

// servingPrimaries is the keyspace's serving graph for primaries.
func (e *wfEnv) servingPrimaries(t *testing.T) []string {
	t.Helper()
	srv, err := e.store().GetSrvKeyspace(t.Context(), wfKeyspace)
	if err != nil {
		t.Fatal(err)
	}
	return srv.Partitions[topo.TabletPrimary]
}

// testWorkflow runs a resharding of wf's -80,80- into targets from start
// to end while the writer runs: create, copy, catch-up, reads 1% → 50% →
// 100%, vdiff under writes, switch writes, reverse, vdiff, switch writes
// again, complete. At each point where one side is the copy of the other
// (the writer paused, catch-up or reverse replication done) both sides
// are checked on the shards directly: every acknowledged write exactly as
// acknowledged, on the shard owning its row and on no other. The longest
// write of each phase is logged with the workflow's own stall.
func testWorkflow(t *testing.T, targets []string) {
	e := startWorkflowEnv(t, targets, true)
	w := e.startWriter(t)
	time.Sleep(500 * time.Millisecond)

	w.setPhase("copying")
	e.ctl(t, "create", "--source-shards", strings.Join(e.sources, ","), "--target-shards", strings.Join(targets, ","))
	st := e.waitWorkflow(t, "the copy", func(st reshard.Status) bool { return st.State == topo.WorkflowRunning })
	t.Logf("copied %d rows at %.0f rows/s", st.RowsCopied, st.CopyRowsPerSecond)
	w.setPhase("catching up")
	time.Sleep(time.Second)
	for _, p := range []string{"1", "50", "100"} {
		e.readSwitch(t, w, p)
	}
	if st := e.waitWorkflow(t, "reads switched", func(st reshard.Status) bool { return st.State == topo.WorkflowReadsSwitched }); st.ReadPercent != 100 {
		t.Errorf("after --percent 100: read_percent %v, want 100", st.ReadPercent)
	}
	w.setPhase("vdiff")
	t.Logf("vdiff under writes:\n%s", e.ctl(t, "vdiff"))
	for _, err := range w.takeErrors() {
		t.Errorf("a write failed before the write switch, want none: %v", err)
	}

	e.switchWrites(t, w, "switch-traffic --writes", "switch-traffic", "--writes")
	if got := e.servingPrimaries(t); !slices.Equal(got, targets) {
		t.Fatalf("after switch-traffic --writes: serving %v, want the targets %v", got, targets)
	}
	e.switchWrites(t, w, "reverse-traffic", "reverse-traffic")
	if got := e.servingPrimaries(t); !slices.Equal(got, e.sources) {
		t.Fatalf("after reverse-traffic: serving %v, want the sources %v", got, e.sources)
	}
	// Written on the targets, then on the sources again: catch-up must
	// have resumed where reverse replication handed over.
	w.setPhase("running again")
	t.Logf("vdiff after reverse-traffic, under writes:\n%s", e.ctl(t, "vdiff"))
	e.switchWrites(t, w, "switch-traffic --writes again", "switch-traffic", "--writes")

	w.halt()
	for _, err := range w.takeErrors() {
		// The gateway holds statements during a switch: a client should
		// not see them fail. A transaction open when the switch began is
		// the exception the design accepts: one that the gateways can't
		// drain (its next statement held) has its connection cut on the
		// old side and fails rather than commit after the final position
		// is read (docs/RESHARDING.md).
		if err.tx && strings.Contains(err.phase, "traffic") && !strings.HasSuffix(err.phase, " done") {
			t.Logf("a transaction open across a switch failed (allowed): %v", err)
			continue
		}
		t.Errorf("a write failed: %v", err)
	}
	w.report(t)
	// The targets serve; reverse replication keeps the sources equal.
	e.waitSideMatches(t, "targets (serving)", targets, w)
	e.waitSideMatches(t, "sources (by reverse replication)", e.sources, w)

	t.Logf("complete: %s", strings.TrimSpace(e.ctl(t, "complete")))
	if st := e.waitWorkflow(t, "completed", func(reshard.Status) bool { return true }); st.State != topo.WorkflowCompleted {
		t.Errorf("after complete: state %s, want completed", st.State)
	}
	// The gateway writes to the targets alone now.
	w.execAcked(t, 99999999, "INSERT INTO account (id, owner, balance) VALUES (99999999, 'after complete', 1)", "after complete|1")
	e.checkSide(t, "targets after complete", targets, w)
}

// waitSideMatches waits (up to 15 s) until checkSide would pass for a
// side, then runs it: reverse replication and catch-up apply within
// about a second.
func (e *wfEnv) waitSideMatches(t *testing.T, side string, shards []string, w *wfWriter) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if e.sideMatches(t, shards, w) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.checkSide(t, side, shards, w)
}

// sideMatches is checkSide's verdict without reporting.
func (e *wfEnv) sideMatches(t *testing.T, shards []string, w *wfWriter) bool {
	t.Helper()
	want, unsure := w.expected()
	n := 0
	for _, s := range shards {
		for _, r := range gatewaytest.QueryStrings(t, e.shardDB(t, s), "SELECT id, owner, balance FROM account") {
			id, _ := strconv.ParseInt(r[0], 10, 64)
			if unsure[id] {
				continue
			}
			if exp, ok := want[id]; !ok || exp != r[1]+"|"+r[2] || e.owner(t, id, shards) != s {
				return false
			}
			n++
		}
	}
	return n == len(want)-countIn(want, unsure)
}

func countIn(rows map[int64]string, ids map[int64]bool) int {
	n := 0
	for id := range ids {
		if _, ok := rows[id]; ok {
			n++
		}
	}
	return n
}

// TestSplitWorkflow: the whole workflow for a 2 → 4 split.
func TestSplitWorkflow(t *testing.T) { testWorkflow(t, []string{"-40", "40-80", "80-c0", "c0-"}) }

// TestMergeWorkflow: the whole workflow for a 2 → 1 merge.
func TestMergeWorkflow(t *testing.T) { testWorkflow(t, []string{"-"}) }
