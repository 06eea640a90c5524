package failover_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
)

// supervise runs the cluster's supervision as `shardgate up` does, until
// the returned stop is called (stop waits for it to end).
func supervise(t *testing.T, ctx context.Context, c *localcluster.Cluster, delay time.Duration) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Supervise(ctx, localcluster.SuperviseConfig{RestartDelay: delay, Logger: tablettest.Logger(t)})
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestKilledPrimaryRestartsAsFencedReplica is `shardgate up`'s answer to a
// crashed mariadbd: a shard's primary is SIGKILLed while a client writes
// through the gateway; the controller promotes the replica; the
// supervision restarts the killed instance by itself, read-only; the
// controller fences it into a replica of the new primary, with every
// acknowledged write; and its general log shows no insert from a gateway
// after the restart while the writes go on.
func TestKilledPrimaryRestartsAsFencedReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, _, _ := startCluster(t, ctx)
	store := env.Cluster.Store
	// The order `up` stops them in: the supervision first.
	defer runController(t, ctx, store)()
	defer supervise(t, ctx, env.Cluster, failover.DefaultDetectAfter+3*time.Second)()

	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=3s&writeTimeout=3s", env.Gateway.Addr()))
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
	const victim = "-80"
	w := startWriter(db, shardMapper(t))
	defer w.stop()
	time.Sleep(time.Second)
	if n := len(w.ackedIn(victim)); n == 0 {
		t.Fatalf("no write to %s acknowledged before the kill (errors: %v)", victim, w.lastErr())
	}

	killed := env.Cluster.Primary("service", victim)
	killedAt := time.Now()
	if err := killed.Mysqld.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the primary of service/%s (%s) with SIGKILL", victim, killed.Alias)
	firstOK := w.waitWrite(victim, killedAt, 30*time.Second)
	if firstOK.IsZero() {
		t.Fatalf("no write to service/%s succeeded within 30s of the kill (last error: %v)", victim, w.lastErr())
	}
	newPrimary := primaryTablet(t, ctx, store, "service", victim)
	if newPrimary.Alias == killed.Alias {
		t.Fatalf("service/%s: the killed %s is still the primary after writes resumed", victim, killed.Alias)
	}
	t.Logf("kill to the first successful write: %s (new primary %s)", firstOK.Sub(killedAt).Round(time.Millisecond), newPrimary.Alias)

	// Restarted by the supervision, with no help from the test.
	deadline := time.Now().Add(30 * time.Second)
	for !killed.Mysqld.Running() {
		if time.Now().After(deadline) {
			t.Fatalf("killed %s not restarted within 30s", killed.Alias)
		}
		time.Sleep(20 * time.Millisecond)
	}
	restartedAt := time.Now()
	t.Logf("killed %s restarted %s after the kill", killed.Alias, restartedAt.Sub(killedAt).Round(time.Millisecond))
	execOn(t, killed.Mysqld.Addr(), "SET GLOBAL log_output = 'TABLE'")
	execOn(t, killed.Mysqld.Addr(), "SET GLOBAL general_log = ON")
	since := queryOne(t, killed.Mysqld.Addr(), "SELECT NOW(6)")
	if got := queryOne(t, killed.Mysqld.Addr(), "SELECT @@global.read_only"); got != "1" {
		t.Errorf("restarted former primary: read_only got %s, want 1 from its start", got)
	}

	// Fenced: a replica of the new primary, typed replica.
	deadline = time.Now().Add(30 * time.Second)
	for {
		tb, err := store.GetTablet(ctx, killed.Alias)
		if err == nil && tb.Type == topo.TabletReplica {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted former primary %s: got tablet %+v, %v, want type replica within 30s of its restart", killed.Alias, tb, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("restarted former primary fenced into a replica %s after its restart", time.Since(restartedAt).Round(time.Millisecond))
	if got := queryOne(t, killed.Mysqld.Addr(), "SHOW SLAVE STATUS", "Master_Port"); got != strconv.Itoa(newPrimary.Port) {
		t.Errorf("restarted former primary: replicates from port %s, want %d (the new primary)", got, newPrimary.Port)
	}
	time.Sleep(time.Second) // writes go on
	w.stop()

	if got := queryOne(t, killed.Mysqld.Addr(), "SELECT CONCAT(COUNT(*), ' ', IFNULL(GROUP_CONCAT(user_host, ': ', CONVERT(argument USING utf8mb4) SEPARATOR '; '), '')) "+
		"FROM mysql.general_log WHERE event_time >= '"+since+"' AND command_type = 'Query' "+
		"AND user_host NOT LIKE '%SQL_SLAVE%' AND argument NOT LIKE '%general_log%' AND LOWER(CONVERT(argument USING utf8mb4)) LIKE '%insert%'"); got != "0 " {
		t.Errorf("restarted former primary: inserts from clients after its restart: got %s, want none", got)
	}
	pos := queryOne(t, newPrimary.Addr(), "SELECT @@global.gtid_binlog_pos")
	if got := queryOne(t, killed.Mysqld.Addr(), fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 10)", pos)); got != "0" {
		t.Fatalf("restarted former primary did not catch up with the new primary's %s", pos)
	}
	back := ids(t, killed.Mysqld.Addr())
	onPrimary := ids(t, newPrimary.Addr())
	for _, id := range w.ackedIn(victim) {
		if !slices.Contains(onPrimary, id) {
			t.Errorf("new primary lacks acknowledged id %d", id)
		}
		if !slices.Contains(back, id) {
			t.Errorf("restarted former primary lacks acknowledged id %d", id)
		}
	}
	t.Logf("%d writes to service/%s acknowledged, all on the new primary and the fenced former primary", len(w.ackedIn(victim)), victim)
}

// TestKilledPrimaryRestartsAsPrimaryWithoutFailover: with no failover
// controller (`shardgate up --failover=false`), the supervision restarts
// a killed primary as the shard's primary, and writes through the gateway
// succeed again with every acknowledged one kept.
func TestKilledPrimaryRestartsAsPrimaryWithoutFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, _, _ := startCluster(t, ctx)
	defer supervise(t, ctx, env.Cluster, localcluster.DefaultRestartDelay)()

	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=3s&writeTimeout=3s", env.Gateway.Addr()))
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
	const victim = "80-"
	w := startWriter(db, shardMapper(t))
	defer w.stop()
	time.Sleep(time.Second)

	killed := env.Cluster.Primary("service", victim)
	killedAt := time.Now()
	if err := killed.Mysqld.Kill(); err != nil {
		t.Fatal(err)
	}
	firstOK := w.waitWrite(victim, killedAt, 60*time.Second)
	if firstOK.IsZero() {
		t.Fatalf("no write to service/%s succeeded within 60s of the kill (last error: %v)", victim, w.lastErr())
	}
	t.Logf("kill of the primary of service/%s to the first successful write, restarted in place: %s", victim, firstOK.Sub(killedAt).Round(time.Millisecond))
	w.stop()
	if p := primaryTablet(t, ctx, env.Cluster.Store, "service", victim); p.Alias != killed.Alias {
		t.Errorf("service/%s's primary: got %s, want %s still (no failover ran)", victim, p.Alias, killed.Alias)
	}
	if got := queryOne(t, killed.Mysqld.Addr(), "SELECT @@global.read_only"); got != "0" {
		t.Errorf("restarted primary: read_only got %s, want 0", got)
	}
	have := ids(t, killed.Mysqld.Addr())
	for _, id := range w.ackedIn(victim) {
		if !slices.Contains(have, id) {
			t.Errorf("restarted primary lacks acknowledged id %d", id)
		}
	}
	t.Logf("%d writes to service/%s acknowledged, all present", len(w.ackedIn(victim)), victim)
}

// TestErrantFormerPrimaryIsRebuilt: a former primary that comes back with
// a transaction no replica received (here made on purpose: written to it
// directly while its replica's replication was stopped, then the primary
// SIGKILLed) can't follow the replica promoted in its place; the
// supervision rebuilds it from the new primary, and the controller fences
// it into a replica without the errant row.
func TestErrantFormerPrimaryIsRebuilt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, _, _ := startCluster(t, ctx)
	store := env.Cluster.Store
	defer runController(t, ctx, store)()
	defer supervise(t, ctx, env.Cluster, failover.DefaultDetectAfter+3*time.Second)()
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=3s&writeTimeout=3s", env.Gateway.Addr()))
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
	const victim = "-80"
	old := env.Cluster.Primary("service", victim)
	replica := replicaInstance(t, ctx, env.Cluster, victim)

	// The errant transaction: on the primary alone.
	execOn(t, replica.Mysqld.Addr(), "STOP SLAVE")
	execOn(t, old.Mysqld.Addr(), "SET GLOBAL rpl_semi_sync_master_enabled = OFF")
	execOn(t, old.Mysqld.Addr(), "INSERT INTO service.t (id, v) VALUES (-1, 'errant')")
	// A prepared XA branch in the binlog's tail: crash recovery as a
	// replica can't cut past it, so it is kept, errant.
	execAllOn(t, old.Mysqld.Addr(), "XA START 'errant'", "INSERT INTO service.t (id, v) VALUES (-2, 'errant')", "XA END 'errant'", "XA PREPARE 'errant'")
	if err := old.Mysqld.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s holds row -1 and a prepared branch with row -2 that its replica %s never received; killed it", old.Alias, replica.Alias)
	// Replicating again, from a primary that is gone: the controller
	// promotes it, and the writes go on there.
	execOn(t, replica.Mysqld.Addr(), "START SLAVE")
	w := startWriter(db, shardMapper(t))
	defer w.stop()

	waitTabletType(t, ctx, store, old.Alias, topo.TabletReplica, 90*time.Second)
	t.Logf("%s rebuilt and fenced into a replica", old.Alias)
	w.stop()
	primary := primaryTablet(t, ctx, store, "service", victim)
	if primary.Alias != replica.Alias {
		t.Fatalf("service/%s: primary %s, want the promoted %s", victim, primary.Alias, replica.Alias)
	}
	pos := queryOne(t, primary.Addr(), "SELECT @@global.gtid_binlog_pos")
	if got := queryOne(t, old.Mysqld.Addr(), fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 30)", pos)); got != "0" {
		t.Fatalf("rebuilt %s did not catch up with %s", old.Alias, pos)
	}
	back := ids(t, old.Mysqld.Addr())
	if slices.Contains(back, -1) || slices.Contains(back, -2) {
		t.Errorf("rebuilt %s still has an errant row (-1 or -2): %v", old.Alias, back[:min(len(back), 5)])
	}
	if n := xaRecoverCount(t, old.Mysqld.Addr()); n != 0 {
		t.Errorf("rebuilt %s: got %d prepared XA branches, want none", old.Alias, n)
	}
	for _, id := range w.ackedIn(victim) {
		if !slices.Contains(back, id) {
			t.Errorf("rebuilt %s lacks acknowledged id %d", old.Alias, id)
		}
	}
	if got := queryOne(t, old.Mysqld.Addr(), "SELECT @@global.read_only"); got != "1" {
		t.Errorf("rebuilt %s: read_only got %s, want 1", old.Alias, got)
	}
	t.Logf("rebuilt %s has the %d acknowledged writes to service/%s and neither errant row", old.Alias, len(w.ackedIn(victim)), victim)
}

// execAllOn runs statements on one connection to an instance, then
// closes it.
func execAllOn(t *testing.T, addr string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: addr, User: tablet.RootUser})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, q := range stmts {
		if _, err := c.Execute(ctx, q); err != nil {
			t.Fatalf("%s on %s: %v", q, addr, err)
		}
	}
}
