package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

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

// moveEnv is a cluster with an unsharded keyspace global and a keyspace
// service of two shards whose vschema places table item by a hash of id,
// a gateway, and a resharding controller running in the background.
type moveEnv struct {
	env  *gatewaytest.Env
	hash vindex.Functional
}

const moveSeedRows = 400

func startMoveEnv(t *testing.T, ctx context.Context) *moveEnv {
	t.Helper()
	cfg := localcluster.Config{
		Dir: filepath.Join(t.TempDir(), "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{
			{Name: "global"},
			{Name: "service", Shards: 2, VSchema: &vschema.Keyspace{
				Sharded:  true,
				Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
				Tables:   map[string]*vschema.Table{"item": {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}}}},
			}},
		},
		EtcdAddr: "127.0.0.1:0",
		Logger:   tablettest.Logger(t),
	}
	env, err := gatewaytest.Start(ctx, cfg, func(c *localcluster.Cluster) gateway.Config {
		return gateway.Config{ListenAddr: "127.0.0.1:0", Topo: c.Store, Logger: tablettest.Logger(t)}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	e := &moveEnv{env: env}
	snap, err := e.store().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.hash = snap.VSchema.Keyspaces["service"].Vindexes["hash"].(vindex.Functional)

	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		reshard.NewRunner(reshard.Config{Store: e.store(), Conn: tablet.ConnConfig{User: tablet.RootUser}, ID: "movetables-e2e",
			Interval: 100 * time.Millisecond, Logger: tablettest.Logger(t)}).Run(rctx)
	}()
	t.Cleanup(func() { stop(); <-done })
	return e
}

func (e *moveEnv) store() *topo.Store { return e.env.Cluster.Store }

// gateway opens a handle on the gateway with keyspace ks.
func (e *moveEnv) gateway(t *testing.T, ks string) *sql.DB {
	return gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/%s?interpolateParams=true", e.env.Gateway.Addr(), ks))
}

// seed creates table item with moveSeedRows rows on db.
func seed(t *testing.T, db *sql.DB) *moveWriter {
	t.Helper()
	gatewaytest.MustExec(t, db, "CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, val VARCHAR(64) NOT NULL, n INT)")
	w := &moveWriter{want: map[int64]string{}, unknown: map[int64]bool{}, next: moveSeedRows + 1}
	var vals []string
	for id := int64(1); id <= moveSeedRows; id++ {
		vals = append(vals, fmt.Sprintf("(%d, 'seed %d', %d)", id, id, id))
		w.want[id] = fmt.Sprintf("seed %d", id)
		w.ids = append(w.ids, id)
	}
	gatewaytest.MustExec(t, db, "INSERT INTO item (id, val, n) VALUES "+strings.Join(vals, ","))
	return w
}

// waitState waits for the workflow to reach state want.
func (e *moveEnv) waitState(t *testing.T, ctx context.Context, keyspace, workflow string, want topo.WorkflowState) {
	t.Helper()
	for {
		w, err := e.store().GetWorkflow(ctx, keyspace, workflow)
		if err != nil {
			t.Fatal(err)
		}
		if w.State == want {
			return
		}
		if w.State == topo.WorkflowError {
			t.Fatalf("workflow %s/%s in state error: %s", keyspace, workflow, w.Error)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("workflow %s/%s: state %s, want %s (error %q)", keyspace, workflow, w.State, want, w.Error)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ctlCode runs shardctl and returns its exit code and output.
func ctlCode(t *testing.T, store *topo.Store, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"--topo-endpoints", strings.Join(store.Client().Endpoints(), ","), "--topo-root", store.Root()}, args...)
	code := run(t.Context(), all, &out, &errb)
	return code, out.String() + errb.String()
}

// moveWriter changes rows of item at a steady pace and records every
// acknowledged change: want is id → the value the last acknowledged write
// left ("" once deleted). A write that failed may or may not have
// happened: its id goes to unknown and is written no more.
type moveWriter struct {
	mu      sync.Mutex
	db      *sql.DB
	want    map[int64]string
	unknown map[int64]bool
	ids     []int64 // ids of want, to pick from
	next    int64
	ok      int
	errs    []string
	// onError, if set, may replace db after a failed write (the
	// external source made read-only: the application moves to the
	// gateway).
	onError func(err error) *sql.DB
}

func (w *moveWriter) run(ctx context.Context, seed uint64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(seed, 2))
		for i := 0; ctx.Err() == nil; i++ {
			w.step(ctx, rng, i)
			select {
			case <-ctx.Done():
			case <-time.After(3 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (w *moveWriter) step(ctx context.Context, rng *rand.Rand, i int) {
	w.mu.Lock()
	db := w.db
	var id int64
	var q, val string
	var args []any
	switch op := rng.IntN(4); {
	case op <= 1 || len(w.ids) == 0:
		id, w.next = w.next, w.next+1
		val = fmt.Sprintf("insert %d", i)
		q, args = "INSERT INTO item (id, val, n) VALUES (?, ?, ?)", []any{id, val, i}
	case op == 2:
		id = w.ids[rng.IntN(len(w.ids))]
		val = fmt.Sprintf("update %d", i)
		q, args = "UPDATE item SET val = ?, n = ? WHERE id = ?", []any{val, i, id}
	default:
		id = w.ids[rng.IntN(len(w.ids))]
		q, args = "DELETE FROM item WHERE id = ?", []any{id}
	}
	w.mu.Unlock()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	_, err := db.ExecContext(cctx, q, args...)
	cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.errs = append(w.errs, err.Error())
		w.unknown[id] = true
		delete(w.want, id)
		w.ids = removeID(w.ids, id)
		if w.onError != nil {
			if db := w.onError(err); db != nil {
				w.db = db
			}
		}
		return
	}
	w.ok++
	if val == "" {
		w.want[id] = ""
		w.ids = removeID(w.ids, id)
		return
	}
	if _, known := w.want[id]; !known {
		w.ids = append(w.ids, id)
	}
	w.want[id] = val
}

func removeID(ids []int64, id int64) []int64 {
	for i, x := range ids {
		if x == id {
			ids[i] = ids[len(ids)-1]
			return ids[:len(ids)-1]
		}
	}
	return ids
}

// checkShards reads item on every shard of service directly and checks
// that every acknowledged write is there as acknowledged, on the shard
// owning its keyspace id and on no other, and that no shard holds a row
// it doesn't own.
func (e *moveEnv) checkShards(t *testing.T, w *moveWriter) (present int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	onShard := map[int64]string{} // id → shard
	vals := map[int64]string{}
	for _, shard := range []string{"-80", "80-"} {
		kr, _ := vindex.ParseKeyRange(shard)
		db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", e.env.Cluster.Primary("service", shard).Mysqld.Addr()))
		for _, row := range gatewaytest.QueryStrings(t, db, "SELECT id, val FROM item") {
			var id int64
			fmt.Sscan(row[0], &id)
			if prev, dup := onShard[id]; dup {
				t.Errorf("id %d is on shards %s and %s", id, prev, shard)
			}
			onShard[id], vals[id] = shard, row[1]
			if ksid, err := e.hash.Map(id); err != nil || !kr.Contains(ksid) {
				t.Errorf("id %d is on shard %s, which doesn't own it", id, shard)
			}
		}
	}
	for id, want := range w.want {
		got, ok := vals[id]
		switch {
		case want == "" && ok:
			t.Errorf("id %d: deleted (acknowledged), but shard %s has it: %q", id, onShard[id], got)
		case want != "" && !ok:
			t.Errorf("id %d: got no row on any shard, want %q (acknowledged)", id, want)
		case want != "" && got != want:
			t.Errorf("id %d: got %q on shard %s, want %q (acknowledged)", id, got, onShard[id], want)
		}
		if want != "" {
			present++
		}
	}
	for id := range vals {
		if _, known := w.want[id]; !known && !w.unknown[id] {
			t.Errorf("id %d is on shard %s but was never written", id, onShard[id])
		}
	}
	t.Logf("checked %d acknowledged rows on the shards (%d writes acknowledged, %d failed: %d ids unknown)", len(w.want), w.ok, len(w.errs), len(w.unknown))
	return present
}

// countThrough counts item's rows through the gateway in keyspace ks.
func (e *moveEnv) countThrough(t *testing.T, ks string) int {
	t.Helper()
	var n int
	if err := e.gateway(t, ks).QueryRow("SELECT COUNT(*) FROM item").Scan(&n); err != nil {
		t.Fatalf("USE %s; SELECT COUNT(*) FROM item: %v", ks, err)
	}
	return n
}

// planKeyspace is the keyspace a session of ks plans a read of item in
// (VEXPLAIN PLAN), for a new session.
func (e *moveEnv) planKeyspace(t *testing.T, db *sql.DB) string {
	t.Helper()
	var plan string
	if err := db.QueryRow("VEXPLAIN PLAN SELECT val FROM item WHERE id = 7").Scan(&plan); err != nil {
		// Refused: the table is not served in this session (an import
		// before its reads are switched).
		t.Logf("VEXPLAIN: %v", err)
		return ""
	}
	m := regexp.MustCompile(`"Keyspace": *\{\s*"Name": *"([^"]+)"`).FindStringSubmatch(plan)
	if m == nil {
		t.Fatalf("VEXPLAIN names no keyspace: %s", plan)
	}
	return m[1]
}

// readShares counts, over n new sessions of keyspace ks, those that plan
// item's reads in keyspace service.
func (e *moveEnv) readShares(t *testing.T, ks string, n int) int {
	t.Helper()
	db := e.gateway(t, ks)
	db.SetMaxIdleConns(0)
	on := 0
	for range n {
		if e.planKeyspace(t, db) == "service" {
			on++
		}
	}
	return on
}

// waitReads waits until the gateway applies a read switch: of n new
// sessions, between lo and hi plan reads on service.
func (e *moveEnv) waitReads(t *testing.T, ctx context.Context, ks string, n, lo, hi int) int {
	t.Helper()
	for {
		got := e.readShares(t, ks, n)
		if got >= lo && got <= hi {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("reads: %d of %d sessions plan on service, want %d..%d", got, n, lo, hi)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func isReadOnlyError(err error) bool {
	var me *mysqldriver.MySQLError
	return errors.As(err, &me) && me.Number == 1290
}
