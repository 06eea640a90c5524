package main

import (
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
)

// TestUpProvisionsReshardTargets: under `shardgate up`, `shardctl reshard
// create` naming target shards that have no instances makes up start a
// primary and a replica (as the cluster has) for each, register them,
// copy the schema, and the copy runs to the end; the targets come back
// with up's restart; `cancel` stops them and takes them out of the
// topology.
func TestUpProvisionsReshardTargets(t *testing.T) {
	dataDir := t.TempDir()
	addr, banner, stop := startUp(t, dataDir)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("create table customer (id bigint primary key, name varchar(20))"); err != nil {
		t.Fatal(err)
	}
	const rows = 400
	var vals []string
	for id := 1; id <= rows; id++ {
		vals = append(vals, fmt.Sprintf("(%d, 'c%d')", id, id))
	}
	if _, err := db.Exec("insert into customer (id, name) values " + strings.Join(vals, ",")); err != nil {
		t.Fatal(err)
	}
	endpointsOf := func(banner string) string {
		m := endpointsRE.FindStringSubmatch(banner)
		if m == nil {
			t.Fatalf("up's banner names no --topo-endpoints:\n%s", banner)
		}
		return m[1]
	}
	eps := endpointsOf(banner)
	bin := filepath.Join(t.TempDir(), "shardctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../shardctl").CombinedOutput(); err != nil {
		t.Fatalf("build shardctl: %v\n%s", err, out)
	}
	shardctl := func(args ...string) string {
		out, err := exec.Command(bin, append([]string{"--topo-endpoints", eps}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("shardctl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	sources, targets := []string{"-40", "40-80"}, []string{"-20", "20-40", "40-60", "60-80"}
	// Rows of the sources, read through their primaries' shard targets.
	want := 0
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range sources {
		var n int
		if _, err := conn.ExecContext(t.Context(), "use `service:"+sh+"`"); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(t.Context(), "select count(*) from customer").Scan(&n); err != nil {
			t.Fatal(err)
		}
		want += n
	}
	conn.Close()
	start := time.Now()
	shardctl("reshard", "create", "--keyspace", "service", "--workflow", "split",
		"--source-shards", strings.Join(sources, ","), "--target-shards", strings.Join(targets, ","))

	// Generous: at load 35 the copy alone took 3m15s of the 4 minutes
	// this once had, and the restart and cancel did not fit.
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	store, err := topo.Open(ctx, topo.Config{Endpoints: strings.Split(eps, ",")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for {
		w, err := store.GetWorkflow(ctx, "service", "split")
		if err != nil {
			t.Fatal(err)
		}
		if w.State == topo.WorkflowRunning {
			break
		}
		if w.State != topo.WorkflowCopying || ctx.Err() != nil {
			t.Fatalf("workflow: state %s (error %q), want copying until running", w.State, w.Error)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("targets started and copied %v after create", time.Since(start).Round(time.Millisecond))
	if got := targetRows(t, ctx, store, targets); got != want {
		t.Errorf("rows on the targets' primaries and replicas: got %d, want the sources' %d", got, want)
	}

	// A restart of up starts the targets again.
	stop()
	stopped = true
	store.Close()
	_, banner, stop = startUp(t, dataDir)
	stopped = false
	eps = endpointsOf(banner)
	store2, err := topo.Open(ctx, topo.Config{Endpoints: strings.Split(eps, ",")})
	if err != nil {
		t.Fatal(err)
	}
	defer store2.Close()
	if got := targetRows(t, ctx, store2, targets); got != want {
		t.Errorf("after up's restart: rows on the targets: got %d, want %d", got, want)
	}

	// cancel: the targets leave the topology and their instances stop.
	tablets := targetTablets(t, ctx, store2, targets)
	shardctl("reshard", "cancel", "--keyspace", "service", "--workflow", "split")
	deadline := time.Now().Add(time.Minute)
	for _, tb := range tablets {
		for {
			c, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: tb.Addr(), User: tablet.RootUser})
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatalf("after cancel: target tablet %s (%s) still answers", tb.Alias, tb.Addr())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if left := targetTablets(t, ctx, store2, targets); len(left) != 0 {
		t.Errorf("after cancel: target tablets still in the topology: %v", left)
	}
	stop()
	stopped = true
	if pids := tablettest.Processes(dataDir); len(pids) > 0 {
		t.Errorf("mariadbd processes of %s left after up stopped: %v", dataDir, pids)
	}
}

// targetTablets lists the tablets of shards.
func targetTablets(t *testing.T, ctx context.Context, store *topo.Store, shards []string) []*topo.Tablet {
	t.Helper()
	all, err := store.ListTablets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*topo.Tablet
	for _, tb := range all {
		if tb.Keyspace == "service" && slices.Contains(shards, tb.Shard) {
			out = append(out, tb)
		}
	}
	return out
}

// targetRows checks every target shard has a primary and a replica in the
// topology, and returns the rows of customer on the primaries after
// checking each replica has as many.
func targetRows(t *testing.T, ctx context.Context, store *topo.Store, shards []string) int {
	t.Helper()
	total := 0
	for _, sh := range shards {
		counts := map[topo.TabletType][]int{}
		for _, tb := range targetTablets(t, ctx, store, []string{sh}) {
			c, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: tb.Addr(), User: tablet.RootUser, DB: "service"})
			if err != nil {
				t.Fatalf("target %s tablet %s: %v", sh, tb.Alias, err)
			}
			n := -1
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				res, err := c.Execute(ctx, "SELECT COUNT(*) FROM customer")
				if err == nil {
					fmt.Sscan(string(res.Rows[0][0]), &n)
				}
				if tb.Type == topo.TabletPrimary || (n >= 0 && slices.Contains(counts[topo.TabletPrimary], n)) || time.Now().After(deadline) {
					break
				}
			}
			c.Close()
			counts[tb.Type] = append(counts[tb.Type], n)
		}
		if len(counts[topo.TabletPrimary]) != 1 || len(counts[topo.TabletReplica]) != 1 {
			t.Fatalf("target %s: tablets %v, want one primary and one replica", sh, counts)
		}
		if counts[topo.TabletReplica][0] != counts[topo.TabletPrimary][0] {
			t.Errorf("target %s: replica has %d rows, primary %d", sh, counts[topo.TabletReplica][0], counts[topo.TabletPrimary][0])
		}
		total += counts[topo.TabletPrimary][0]
	}
	return total
}
