package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestMoveTablesGlobalToService moves table item from the unsharded
// keyspace global into the sharded keyspace service while a writer
// inserts, updates and deletes rows through the gateway (USE global) the
// whole time: copy, vdiff, reads switched 50% then 100%, writes switched,
// reversed, switched again; every acknowledged write ends on the service
// shard owning its keyspace id, the gateway finds the rows from both
// keyspaces, and complete --drop leaves them in service only.
func TestMoveTablesGlobalToService(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	e := startMoveEnv(t, ctx)
	store := e.store()
	w := seed(t, e.gateway(t, "global"))
	app := e.gateway(t, "global")
	app.SetMaxOpenConns(1)
	w.db = app
	stopWriter := w.run(ctx, 1)
	defer stopWriter()

	mustCtlAt(t, store, "movetables", "create", "--workflow", "mv", "--source-keyspace", "global", "--target-keyspace", "service", "--tables", "item")
	// Until reads are switched, both keyspaces' names of the table read
	// global.
	e.waitReads(t, ctx, "service", 5, 0, 0)
	e.waitState(t, ctx, "service", "mv", "running")
	time.Sleep(300 * time.Millisecond) // catch-up applies the writer's changes
	if code, out := ctlCode(t, store, "movetables", "vdiff", "--target-keyspace", "service", "--workflow", "mv"); code != 0 {
		t.Fatalf("vdiff: exit %d, want 0:\n%s", code, out)
	} else {
		t.Logf("vdiff:\n%s", out)
	}

	mustCtlAt(t, store, "movetables", "switch-traffic", "--target-keyspace", "service", "--workflow", "mv", "--reads", "--percent", "50")
	e.waitReads(t, ctx, "global", 10, 1, 10) // the gateway applied the share
	got := e.readShares(t, "global", 40)
	if got < 8 || got > 32 {
		t.Errorf("reads at 50%%: %d of 40 new sessions plan item on service, want about half", got)
	}
	t.Logf("reads at 50%%: %d of 40 new sessions plan item on service", got)
	mustCtlAt(t, store, "movetables", "switch-traffic", "--target-keyspace", "service", "--workflow", "mv", "--reads", "--percent", "100")
	e.waitReads(t, ctx, "global", 10, 10, 10)
	e.waitState(t, ctx, "service", "mv", "reads-switched")

	out := mustCtlAt(t, store, "movetables", "switch-traffic", "--target-keyspace", "service", "--workflow", "mv", "--writes")
	t.Logf("switch writes: %s", strings.TrimSpace(out))
	time.Sleep(time.Second)
	out = mustCtlAt(t, store, "movetables", "reverse-traffic", "--target-keyspace", "service", "--workflow", "mv")
	t.Logf("reverse: %s", strings.TrimSpace(out))
	time.Sleep(time.Second)
	e.waitState(t, ctx, "service", "mv", "running")
	time.Sleep(2 * time.Second) // the controller restarts catch-up
	out = mustCtlAt(t, store, "movetables", "switch-traffic", "--target-keyspace", "service", "--workflow", "mv", "--writes")
	t.Logf("switch writes again: %s", strings.TrimSpace(out))
	time.Sleep(time.Second)
	stopWriter()

	present := e.checkShards(t, w)
	for _, ks := range []string{"global", "service"} {
		if n := e.countThrough(t, ks); n < present || n > present+len(w.unknown) {
			t.Errorf("USE %s: SELECT COUNT(*) FROM item: got %d, want %d (+ up to %d whose write failed)", ks, n, present, len(w.unknown))
		}
	}
	if w.ok < 200 {
		t.Errorf("the writer got %d writes acknowledged, want a steady stream (errors: %v)", w.ok, w.errs)
	}
	// The switches hold writes and replan them under the new rules: the
	// application sees no error.
	if len(w.errs) > 0 {
		t.Errorf("%d writes failed across the switches, want none: %v", len(w.errs), w.errs)
	}

	mustCtlAt(t, store, "movetables", "complete", "--target-keyspace", "service", "--workflow", "mv", "--drop")
	if n := e.countThrough(t, "service"); n < present {
		t.Errorf("after complete: USE service: %d rows, want %d", n, present)
	}
	src := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/global", e.env.Cluster.Primary("global", "0").Mysqld.Addr()))
	if rows := gatewaytest.QueryStrings(t, src, "SHOW TABLES LIKE 'item'"); len(rows) != 0 {
		t.Errorf("after complete --drop: global's shard still has table item")
	}
	if _, err := e.store().GetWorkflow(ctx, "global", "mv_reverse"); err == nil {
		t.Errorf("after complete: the reverse workflow is still recorded")
	}
}

// TestMoveTablesFromExternalMariaDB imports table item of database
// legacy from a MariaDB that shardgate doesn't manage into keyspace
// service: the application writes to legacy until the write switch makes
// legacy read-only, then through the gateway; every acknowledged write is
// on the service shard owning it.
func TestMoveTablesFromExternalMariaDB(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	e := startMoveEnv(t, ctx)
	store := e.store()
	legacy := tablettest.StartMysqld(t)
	root := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/", legacy.Addr()))
	gatewaytest.MustExec(t, root, "CREATE DATABASE legacy")
	gatewaytest.MustExec(t, root, "CREATE USER app@'127.0.0.1' IDENTIFIED BY 'app'")
	gatewaytest.MustExec(t, root, "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON legacy.* TO app@'127.0.0.1'")
	appLegacy := gatewaytest.Open(t, fmt.Sprintf("app:app@tcp(%s)/legacy?interpolateParams=true", legacy.Addr()))
	appLegacy.SetMaxOpenConns(1)
	w := seed(t, appLegacy)
	w.db = appLegacy
	appGateway := e.gateway(t, "service")
	appGateway.SetMaxOpenConns(1)
	moved := false
	w.onError = func(err error) *sql.DB {
		if isReadOnlyError(err) && !moved {
			moved = true
			return appGateway
		}
		return nil
	}
	stopWriter := w.run(ctx, 2)
	defer stopWriter()

	// A source without what catch-up needs is refused with the reason.
	if code, out := ctlCode(t, store, "movetables", "create", "--workflow", "bad", "--target-keyspace", "service", "--tables", "item",
		"--source-address", legacy.Addr(), "--source-db", "legacy", "--source-user", "nobody"); code == 0 {
		t.Fatalf("create with a user that can't log in: exit 0:\n%s", out)
	}
	t.Setenv(sourcePasswordEnv, "")
	mustCtlAt(t, store, "movetables", "create", "--workflow", "import", "--target-keyspace", "service", "--tables", "item",
		"--source-address", legacy.Addr(), "--source-db", "legacy", "--source-user", "root")
	// The half-imported table is not served by the gateway (once it has
	// the routing rules).
	e.waitReads(t, ctx, "service", 3, 0, 0)
	if _, err := e.gateway(t, "service").Exec("INSERT INTO item (id, val) VALUES (1000000, 'x')"); err == nil {
		t.Errorf("a write to service.item during the import succeeded; want it refused until writes are switched")
	}
	e.waitState(t, ctx, "service", "import", "running")
	time.Sleep(300 * time.Millisecond)
	if code, out := ctlCode(t, store, "movetables", "vdiff", "--target-keyspace", "service", "--workflow", "import"); code != 0 {
		t.Fatalf("vdiff: exit %d, want 0:\n%s", code, out)
	}
	mustCtlAt(t, store, "movetables", "switch-traffic", "--target-keyspace", "service", "--workflow", "import", "--reads", "--percent", "100")
	e.waitReads(t, ctx, "service", 5, 5, 5)
	if n := e.countThrough(t, "service"); n < moveSeedRows/2 {
		t.Errorf("reads switched: USE service: %d rows of item, want the imported ones", n)
	}

	out := mustCtlAt(t, store, "movetables", "switch-traffic", "--target-keyspace", "service", "--workflow", "import", "--writes")
	t.Logf("switch writes: %s", strings.TrimSpace(out))
	time.Sleep(1500 * time.Millisecond)
	stopWriter()
	if !moved {
		t.Fatalf("the writer never saw legacy become read-only (errors: %v)", w.errs)
	}
	w.mu.Lock()
	onGateway := w.ok
	w.mu.Unlock()
	mustCtlAt(t, store, "movetables", "complete", "--target-keyspace", "service", "--workflow", "import")
	present := e.checkShards(t, w)
	if n := e.countThrough(t, "service"); n < present || n > present+len(w.unknown) {
		t.Errorf("USE service: SELECT COUNT(*) FROM item: got %d, want %d", n, present)
	}
	kinds := map[string]int{}
	for _, e := range w.errs {
		kinds[e]++
	}
	t.Logf("%d writes acknowledged in all; failed writes by error: %v", onGateway, kinds)
}

// TestMoveTablesCreateChecks: create refuses, saying why, what it can't
// move; usage errors exit 2.
func TestMoveTablesCreateChecks(t *testing.T) {
	mustCtl(t, "keyspace", "create", "global")
	mustCtl(t, "keyspace", "create", "service", "--sharded")
	mustCtl(t, "tablet", "add", "--keyspace", "global", "--shard", "0", "--type", "primary", "--address", "127.0.0.1:1")
	mustCtl(t, "tablet", "add", "--keyspace", "service", "--shard", "-", "--type", "primary", "--address", "127.0.0.1:2")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--source-keyspace", "global", "--tables", "item"}, `can't place table "item"`},
		{[]string{"--source-keyspace", "service", "--tables", "item"}, "source and target keyspace are both"},
		{[]string{"--source-keyspace", "nope", "--tables", "item"}, `can't place table "item"`},
	} {
		args := append([]string{"movetables", "create", "--workflow", "mv", "--target-keyspace", "service"}, c.args...)
		_, errs, code := ctl(t, args...)
		if code != exitError || !strings.Contains(errs, c.want) {
			t.Errorf("%v: got exit %d (%s), want %d saying %q", c.args, code, errs, exitError, c.want)
		}
	}
	for _, args := range [][]string{
		{"--source-keyspace", "global"},
		{"--tables", "item"},
		{"--tables", "item", "--source-keyspace", "global", "--source-address", "127.0.0.1:3"},
		{"--tables", "item", "--source-address", "127.0.0.1:3"},
	} {
		all := append([]string{"movetables", "create", "--workflow", "mv", "--target-keyspace", "service"}, args...)
		if _, _, code := ctl(t, all...); code != exitUsage {
			t.Errorf("%v: got exit %d, want %d", args, code, exitUsage)
		}
	}
}
