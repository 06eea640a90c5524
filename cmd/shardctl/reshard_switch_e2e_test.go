package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// switchEnv is a cluster of keyspace ks on -80,80- with a gateway, split
// by a workflow into -40,40-80,80-c0,c0- whose copy is done; every
// customer's name is "source" on the sources and "target" on the
// targets, so a read shows which side answered it.
type switchEnv struct {
	env     *gatewaytest.Env
	targets map[string]*tablet.Mysqld
	gw      *sql.DB
	// fresh keeps no idle connections: each of its sessions is new.
	fresh *sql.DB
}

const switchCustomers = 200

func startSwitchEnv(t *testing.T) *switchEnv {
	t.Helper()
	return newSwitchEnv(t, true)
}

// newSwitchEnv is startSwitchEnv; markTargets false leaves the targets
// equal to the sources (the write switch tests).
func newSwitchEnv(t *testing.T, markTargets bool) *switchEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cfg := localcluster.Config{
		Dir: filepath.Join(t.TempDir(), "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{{Name: "ks", Shards: 2, VSchema: &vschema.Keyspace{
			Sharded:  true,
			Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			Tables:   map[string]*vschema.Table{"customer": {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}}}},
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
	e := &switchEnv{env: env, targets: map[string]*tablet.Mysqld{}}
	e.gw = gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/ks", env.Gateway.Addr()))
	e.fresh = gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/ks", env.Gateway.Addr()))
	e.fresh.SetMaxIdleConns(0)
	gatewaytest.MustExec(t, e.gw, "CREATE TABLE customer (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32))")
	var vals []string
	for id := 1; id <= switchCustomers; id++ {
		vals = append(vals, fmt.Sprintf("(%d, 'source')", id))
	}
	gatewaytest.MustExec(t, e.gw, "INSERT INTO customer (id, name) VALUES "+strings.Join(vals, ","))

	names := []string{"-40", "40-80", "80-c0", "c0-"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, name := range names {
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
	for _, name := range names {
		mustCtlAt(t, e.store(), "tablet", "add", "--keyspace", "ks", "--shard", name, "--type", "primary", "--address", e.targets[name].Addr())
	}
	mustCtlAt(t, e.store(), "reshard", "create", "--keyspace", "ks", "--workflow", "split",
		"--source-shards", "-80,80-", "--target-shards", strings.Join(names, ","))
	e.copy(t, ctx)
	for _, name := range names {
		if !markTargets {
			break
		}
		db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/ks", e.targets[name].Addr()))
		gatewaytest.MustExec(t, db, "UPDATE customer SET name = 'target'")
	}
	return e
}

func (e *switchEnv) store() *topo.Store { return e.env.Cluster.Store }

// copy runs a resharding controller until the workflow is copied.
func (e *switchEnv) copy(t *testing.T, ctx context.Context) {
	t.Helper()
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		reshard.NewRunner(reshard.Config{Store: e.store(), Conn: tablet.ConnConfig{User: tablet.RootUser}, ID: "e2e",
			Interval: 50 * time.Millisecond, Logger: tablettest.Logger(t)}).Run(rctx)
	}()
	defer func() { stop(); <-done }()
	for {
		w, err := e.store().GetWorkflow(ctx, "ks", "split")
		if err != nil {
			t.Fatal(err)
		}
		if w.State == topo.WorkflowRunning && w.RowsCopied() == switchCustomers {
			return
		}
		if w.State != topo.WorkflowCopying {
			t.Fatalf("copy: workflow in state %s (%s)", w.State, w.Error)
		}
		select {
		case <-ctx.Done():
			t.Fatal("copy not done in time")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// mustCtlAt runs shardctl against store's topology.
func mustCtlAt(t *testing.T, store *topo.Store, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"--topo-endpoints", strings.Join(store.Client().Endpoints(), ","), "--topo-root", store.Root()}, args...)
	if code := run(t.Context(), all, &out, &errb); code != 0 {
		t.Fatalf("shardctl %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// side is the side a session's reads come from: "targets" if every row
// it reads says so (through a point read and a scatter read), "sources"
// if none does.
func side(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, query string) string {
	t.Helper()
	var n int
	if err := q.QueryRowContext(t.Context(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	switch n {
	case 0:
		return "sources"
	case 1, switchCustomers:
		return "targets"
	}
	t.Fatalf("%s: got %d rows marked target: a mix of both sides", query, n)
	return ""
}

const (
	scatterRead = "SELECT COUNT(*) FROM customer WHERE name = 'target'"
	pointRead   = "SELECT COUNT(*) FROM customer WHERE id = 17 AND name = 'target'"
)

// sessions opens n gateway sessions at once and returns the side each
// reads from, checking each reads one side across statements.
func (e *switchEnv) sessions(t *testing.T, n int) (onTargets int) {
	t.Helper()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := e.gw.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		first := side(t, c, pointRead)
		for _, q := range []string{scatterRead, pointRead, scatterRead} {
			if got := side(t, c, q); got != first {
				t.Fatalf("session %d read from the %s, then %q from the %s: want one side", i, first, q, got)
			}
		}
		if first == "targets" {
			onTargets++
		}
	}
	return onTargets
}

// waitSide waits until new sessions read from want (20 in a row, so that
// at a share of 50% chance can't pass for it), and returns how long that
// took until the first of them.
func (e *switchEnv) waitSide(t *testing.T, want string) time.Duration {
	t.Helper()
	start := time.Now()
	var first time.Time
	inRow := 0
	for {
		c, err := e.fresh.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got := side(t, c, scatterRead)
		c.Close()
		if got != want {
			inRow = 0
		} else if inRow++; inRow == 1 {
			first = time.Now()
		}
		if inRow == 20 {
			took := first.Sub(start)
			if took > time.Second {
				t.Errorf("new sessions read from the %s %v after the switch, want within a second", want, took)
			}
			return took
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("new sessions still read from the %s 5 s after the switch, want the %s", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSwitchReadsEndToEnd: a 2 → 4 split, copied; switch-traffic --reads
// through shardctl sends about half the gateway's sessions to the targets
// at 50% (each sticking to its side), all at 100%, none at 0; reads in a
// transaction, locking reads and writes stay on the sources; cancel takes
// the targets out and the gateway reads the sources again.
func TestSwitchReadsEndToEnd(t *testing.T) {
	e := startSwitchEnv(t)
	sw := func(p string) {
		mustCtlAt(t, e.store(), "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--reads", "--percent", p)
	}
	if n := e.sessions(t, 10); n != 0 {
		t.Fatalf("before any switch: %d of 10 sessions read the targets, want 0", n)
	}

	sw("100")
	t.Logf("gateway applied --percent 100 after %v", e.waitSide(t, "targets"))
	if n := e.sessions(t, 20); n != 20 {
		t.Errorf("at 100%%: %d of 20 sessions read the targets, want 20", n)
	}
	c, err := e.gw.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := side(t, c, pointRead+" FOR UPDATE"); got != "sources" {
		t.Errorf("at 100%%: a locking read went to the %s, want the sources", got)
	}
	tx, err := c.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := side(t, tx, scatterRead); got != "sources" {
		t.Errorf("at 100%%: a read in a transaction went to the %s, want the sources", got)
	}
	if _, err := tx.Exec("INSERT INTO customer (id, name) VALUES (1001, 'written')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(t.Context(), "INSERT INTO customer (id, name) VALUES (1002, 'written')"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(t.Context(), "SET autocommit = 0"); err != nil {
		t.Fatal(err)
	}
	if got := side(t, c, scatterRead); got != "sources" {
		t.Errorf("at 100%%, autocommit off: a read went to the %s, want the sources", got)
	}
	// Back to autocommit before the session returns to database/sql's
	// pool, where the other checks pick it up again.
	if _, err := c.ExecContext(t.Context(), "SET autocommit = 1"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// The writes are on the sources, none on the targets (checked on
	// the shards directly).
	written := 0
	for _, sh := range []string{"-80", "80-"} {
		db := e.env.ShardDB(t, "ks", sh, "")
		written += len(gatewaytest.QueryStrings(t, db, "SELECT id FROM customer WHERE name = 'written'"))
	}
	if written != 2 {
		t.Errorf("at 100%%: %d written rows on the sources, want 2", written)
	}
	for name, m := range e.targets {
		db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/ks", m.Addr()))
		if rows := gatewaytest.QueryStrings(t, db, "SELECT id FROM customer WHERE name = 'written'"); len(rows) != 0 {
			t.Errorf("at 100%%: target %s holds written rows %v, want none", name, rows)
		}
	}

	sw("50")
	time.Sleep(time.Second)
	const n = 60
	got := e.sessions(t, n)
	t.Logf("at 50%%: %d of %d sessions read the targets", got, n)
	if got < n*25/100 || got > n*75/100 {
		t.Errorf("at 50%%: %d of %d sessions read the targets, want about half", got, n)
	}

	sw("0")
	t.Logf("gateway applied --percent 0 after %v", e.waitSide(t, "sources"))
	if n := e.sessions(t, 20); n != 0 {
		t.Errorf("at 0%%: %d of 20 sessions read the targets, want 0", n)
	}

	sw("100")
	e.waitSide(t, "targets")
	// Sessions keep reading while cancel runs: none of their reads fails.
	readerDone, stopReader := make(chan error, 1), make(chan struct{})
	go func() {
		var n int
		for {
			select {
			case <-stopReader:
				readerDone <- nil
				return
			default:
			}
			if err := e.gw.QueryRowContext(context.Background(), scatterRead).Scan(&n); err != nil {
				readerDone <- err
				return
			}
		}
	}()
	mustCtlAt(t, e.store(), "reshard", "cancel", "--keyspace", "ks", "--workflow", "split")
	time.Sleep(200 * time.Millisecond)
	close(stopReader)
	if err := <-readerDone; err != nil {
		t.Errorf("a read while cancel ran failed: %v", err)
	}
	t.Logf("gateway read the sources %v after cancel returned", e.waitSide(t, "sources"))
	if n := e.sessions(t, 20); n != 0 {
		t.Errorf("after cancel: %d of 20 sessions read the targets, want 0", n)
	}
	snap, err := e.store().Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range snap.Shards["ks"] {
		if sh.Name != "-80" && sh.Name != "80-" {
			t.Errorf("after cancel: shard %s still in the topology", sh.Name)
		}
	}
	for _, tb := range snap.Tablets {
		if tb.Shard != "-80" && tb.Shard != "80-" {
			t.Errorf("after cancel: tablet %s of %s still in the topology", tb.Alias, tb.Shard)
		}
	}
}
