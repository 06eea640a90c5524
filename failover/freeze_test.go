//go:build unix

package failover_test

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// TestFrozenPrimaryLosesNoAcknowledgedWrite freezes a shard's primary
// with SIGSTOP for longer than the detection interval while a client
// writes through the gateway: the controller promotes the replica and
// writes succeed again; the frozen primary, resumed, is fenced (read-only,
// not primary) and no gateway writes to it; every write the client saw
// acknowledged is on the shards' primaries. Before lossless semi-sync a
// resumed primary finished its waiting commits on its own and could have
// answered OK for them.
func TestFrozenPrimaryLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, _, _ := startCluster(t, ctx)
	store := env.Cluster.Store

	defer runController(t, ctx, store)()

	const victim = "-80"
	frozen := env.Cluster.Primary("service", victim)
	// The general log shows every statement a gateway sends it.
	execOn(t, frozen.Mysqld.Addr(), "SET GLOBAL log_output = 'TABLE'")
	execOn(t, frozen.Mysqld.Addr(), "SET GLOBAL general_log = ON")
	if got := queryOne(t, frozen.Mysqld.Addr(), "SELECT @@global.rpl_semi_sync_master_wait_no_slave"); got != "1" {
		t.Fatalf("primary of a shard with a replica: rpl_semi_sync_master_wait_no_slave got %s, want 1 (lossless)", got)
	}

	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=3s&writeTimeout=3s", env.Gateway.Addr()))
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
	w := startWriter(db, shardMapper(t))
	defer w.stop()
	time.Sleep(time.Second)
	if n := len(w.ackedIn(victim)); n == 0 {
		t.Fatalf("no write to %s acknowledged before the freeze (errors: %v)", victim, w.lastErr())
	}

	stoppedAt := time.Now()
	if err := frozen.Mysqld.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			if err := frozen.Mysqld.Signal(syscall.SIGCONT); err != nil {
				t.Error(err)
			}
		}
	}
	defer resume() // a stopped mariadbd would not shut down
	t.Logf("froze the primary of service/%s (%s) with SIGSTOP", victim, frozen.Alias)

	// Frozen until the controller has promoted the replica, and for
	// longer than the detection interval in any case.
	deadline := time.Now().Add(30 * time.Second)
	for {
		sh, err := store.GetShard(ctx, "service", victim)
		if err == nil && sh.PrimaryAlias != nil && *sh.PrimaryAlias != frozen.Alias &&
			time.Since(stoppedAt) > failover.DefaultDetectAfter+time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service/%s: no new primary within 30s of freezing %s (shard %+v, %v)", victim, frozen.Alias, sh, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	firstOK := w.waitWrite(victim, stoppedAt, 30*time.Second)
	if firstOK.IsZero() {
		t.Fatalf("no write to service/%s succeeded within 30s of the freeze (last error: %v)", victim, w.lastErr())
	}
	t.Logf("SIGSTOP of the primary of service/%s to the first successful write: %s", victim, firstOK.Sub(stoppedAt).Round(time.Millisecond))
	resume()
	t.Logf("resumed %s with SIGCONT after %s", frozen.Alias, time.Since(stoppedAt).Round(time.Millisecond))

	// Fenced: read-only, and the topology types it drained or replica.
	deadline = time.Now().Add(20 * time.Second)
	for {
		tb, err := store.GetTablet(ctx, frozen.Alias)
		if err == nil && (tb.Type == topo.TabletDrained || tb.Type == topo.TabletReplica) &&
			queryOne(t, frozen.Mysqld.Addr(), "SELECT @@global.read_only") == "1" {
			t.Logf("resumed former primary fenced: type %s, read-only", tb.Type)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("resumed former primary %s: not fenced within 20s (tablet %+v, %v)", frozen.Alias, tb, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fencedAt := queryOne(t, frozen.Mysqld.Addr(), "SELECT NOW(6)")
	time.Sleep(time.Second) // the writer goes on writing to the shard
	w.stop()

	// No gateway statement reached it once fenced (its replication
	// applier's statements aside).
	if got := queryOne(t, frozen.Mysqld.Addr(), "SELECT CONCAT(COUNT(*), ' ', IFNULL(GROUP_CONCAT(user_host, ': ', CONVERT(argument USING utf8mb4) SEPARATOR '; '), '')) "+
		"FROM mysql.general_log WHERE event_time > '"+fencedAt+"' AND command_type = 'Query' "+
		"AND user_host NOT LIKE '%SQL_SLAVE%' AND argument NOT LIKE '%general_log%' AND LOWER(CONVERT(argument USING utf8mb4)) LIKE '%insert%'"); got != "0 " {
		t.Errorf("resumed former primary: inserts after it was fenced: got %s, want none", got)
	}

	var have []int64
	for _, shard := range []string{"-80", "80-"} {
		primary := primaryTablet(t, ctx, store, "service", shard)
		if shard == victim && primary.Alias == frozen.Alias {
			t.Fatalf("service/%s: the topology still names the frozen %s as primary", shard, frozen.Alias)
		}
		have = append(have, ids(t, primary.Addr())...)
	}
	var lost []int64
	for _, id := range w.ackedAll() {
		if !slices.Contains(have, id) {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("acknowledged ids missing on the primaries after the failover: got %d lost %v, want none (of %d acknowledged)", len(lost), lost, len(w.ackedAll()))
	}
	t.Logf("%d writes acknowledged, all present", len(w.ackedAll()))
}

// execOn runs a statement on an instance directly.
func execOn(t *testing.T, addr, query string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: addr, User: tablet.RootUser})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Execute(ctx, query); err != nil {
		t.Fatalf("%s on %s: %v", query, addr, err)
	}
}
