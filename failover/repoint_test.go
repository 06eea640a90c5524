//go:build unix

package failover_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo"
)

// TestFailoverWaitsForASilentReplica: of a shard's two replicas, one is
// frozen (SIGSTOP) just before the primary is killed, under writes. It
// may be the one replica that acknowledged the last writes (semi-sync
// waits for one, any one), so the controller must not promote the other
// while it is silent. Resumed, the failover goes on, and every
// acknowledged write is on the new primary and on the replica that
// follows it.
func TestFailoverWaitsForASilentReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env, _, _ := startClusterWith(t, ctx, 2, nil)
	store := env.Cluster.Store
	defer runController(t, ctx, store)()
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=3s&writeTimeout=3s", env.Gateway.Addr()))
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
	const victim = "-80"
	w := startWriter(db, shardMapper(t))
	defer w.stop()
	time.Sleep(time.Second)

	old := env.Cluster.Primary("service", victim)
	frozen, other := victimReplicas(t, env.Cluster, old)
	if err := frozen.Mysqld.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer frozen.Mysqld.Signal(syscall.SIGCONT)
	if err := old.Mysqld.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("froze replica %s, killed primary %s", frozen.Alias, old.Alias)

	// Five detection intervals: the reachable replica must not be promoted.
	time.Sleep(10 * time.Second)
	if p := primaryTablet(t, ctx, store, "service", victim); p.Alias != old.Alias {
		t.Fatalf("%s promoted while replica %s was frozen: it may lack an acknowledged write only the frozen one has", p.Alias, frozen.Alias)
	}
	if recs, err := failover.ListRecoveries(ctx, store); err != nil || len(recs) != 0 {
		t.Fatalf("recoveries while a replica was frozen: %s, %v; want none", recoveriesString(recs), err)
	}

	if err := frozen.Mysqld.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumedAt := time.Now()
	if w.waitWrite(victim, resumedAt, 30*time.Second).IsZero() {
		t.Fatalf("no write to service/%s within 30s of resuming %s (%v)", victim, frozen.Alias, w.lastErr())
	}
	primary := primaryTablet(t, ctx, store, "service", victim)
	if primary.Alias != frozen.Alias && primary.Alias != other.Alias {
		t.Fatalf("new primary of service/%s: got %s, want one of its replicas", victim, primary.Alias)
	}
	t.Logf("resumed %s; %s promoted", frozen.Alias, primary.Alias)
	w.stop()
	replica := other
	if primary.Alias == other.Alias {
		replica = frozen
	}
	checkHasAcked(t, primary.Addr(), primary.Alias, w.ackedIn(victim))
	waitFollows(t, replica, primary)
	checkHasAcked(t, replica.Mysqld.Addr(), replica.Alias, w.ackedIn(victim))
	t.Logf("%s and %s have all %d acknowledged writes to service/%s", primary.Alias, replica.Alias, len(w.ackedIn(victim)), victim)
}

// TestEmergencyReparentGoesOnWithoutAnIgnoredReplica: with a replica
// frozen and the primary killed, an emergency reparent is refused
// (naming the silent replica) until the operator names it in
// IgnoreReplicas; then the other replica is promoted and takes writes.
// The frozen one, resumed, still follows the dead primary: the
// controller repoints it to the new one and it catches up with every
// acknowledged write (it had everything when frozen: the writes stopped
// and both replicas caught up first).
func TestEmergencyReparentGoesOnWithoutAnIgnoredReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env, _, _ := startClusterWith(t, ctx, 2, nil)
	store := env.Cluster.Store
	defer runController(t, ctx, store)()
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=3s&writeTimeout=3s", env.Gateway.Addr()))
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
	const victim = "-80"
	shardOf := shardMapper(t)
	before := startWriter(db, shardOf)
	time.Sleep(time.Second)
	before.stop()

	old := env.Cluster.Primary("service", victim)
	frozen, other := victimReplicas(t, env.Cluster, old)
	pos := queryOne(t, old.Mysqld.Addr(), "SELECT @@global.gtid_binlog_pos")
	for _, in := range []*localcluster.Instance{frozen, other} {
		if got := queryOne(t, in.Mysqld.Addr(), fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 20)", pos)); got != "0" {
			t.Fatalf("%s did not catch up with %s", in.Alias, pos)
		}
	}
	if err := frozen.Mysqld.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer frozen.Mysqld.Signal(syscall.SIGCONT)
	if err := old.Mysqld.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("froze replica %s, killed primary %s", frozen.Alias, old.Alias)

	emergency := func(ignore ...string) *failover.Reparent {
		t.Helper()
		r := &failover.Reparent{Kind: failover.EmergencyReparent, Keyspace: "service", Shard: victim, IgnoreReplicas: ignore}
		if err := failover.RequestReparent(ctx, store, r); err != nil {
			t.Fatal(err)
		}
		done, err := failover.WaitReparent(ctx, store, "service", victim, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return done
	}
	if done := emergency(); done.State != failover.ReparentFailed || !strings.Contains(done.Error, "replica "+frozen.Alias.String()+" does not answer") {
		t.Fatalf("emergency reparent with %s frozen: got %s %q, want failed saying it does not answer", frozen.Alias, done.State, done.Error)
	}
	if p := primaryTablet(t, ctx, store, "service", victim); p.Alias != old.Alias {
		t.Fatalf("%s promoted while replica %s was frozen and not ignored", p.Alias, frozen.Alias)
	}
	done := emergency(frozen.Alias.String())
	if done.State != failover.ReparentDone || done.Promoted != other.Alias.String() {
		t.Fatalf("emergency reparent ignoring %s: got %s %q promoting %q, want done promoting %s", frozen.Alias, done.State, done.Error, done.Promoted, other.Alias)
	}
	after := startWriterAt(db, shardOf, 1_000_000)
	defer after.stop()
	if after.waitWrite(victim, done.Finished, 30*time.Second).IsZero() {
		t.Fatalf("no write to service/%s within 30s of the emergency reparent (%v)", victim, after.lastErr())
	}

	if err := frozen.Mysqld.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	primary := primaryTablet(t, ctx, store, "service", victim)
	after.stop()
	waitFollows(t, frozen, primary)
	checkHasAcked(t, primary.Addr(), primary.Alias, append(before.ackedIn(victim), after.ackedIn(victim)...))
	checkHasAcked(t, frozen.Mysqld.Addr(), frozen.Alias, append(before.ackedIn(victim), after.ackedIn(victim)...))
}

// victimReplicas returns the two replicas of old's shard.
func victimReplicas(t *testing.T, c *localcluster.Cluster, old *localcluster.Instance) (first, second *localcluster.Instance) {
	t.Helper()
	var out []*localcluster.Instance
	for _, in := range c.Instances {
		if in.Keyspace == old.Keyspace && in.Shard == old.Shard && in != old {
			out = append(out, in)
		}
	}
	if len(out) != 2 {
		t.Fatalf("service/%s: %d replicas, want 2", old.Shard, len(out))
	}
	return out[0], out[1]
}

// waitFollows waits (30 s) until replica replicates from primary, then
// until it has applied everything primary has now.
func waitFollows(t *testing.T, replica *localcluster.Instance, primary *topo.Tablet) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for queryOne(t, replica.Mysqld.Addr(), "SHOW SLAVE STATUS", "Master_Port") != strconv.Itoa(primary.Port) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still replicating from port %s after 30s, want %d (the new primary %s)", replica.Alias,
				queryOne(t, replica.Mysqld.Addr(), "SHOW SLAVE STATUS", "Master_Port"), primary.Port, primary.Alias)
		}
		time.Sleep(200 * time.Millisecond)
	}
	pos := queryOne(t, primary.Addr(), "SELECT @@global.gtid_binlog_pos")
	if got := queryOne(t, replica.Mysqld.Addr(), fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 20)", pos)); got != "0" {
		t.Fatalf("%s did not catch up with %s (%s)", replica.Alias, pos,
			queryOne(t, replica.Mysqld.Addr(), "SHOW SLAVE STATUS", "Last_Error"))
	}
}

// checkHasAcked fails the test for each acknowledged id the instance at
// addr lacks.
func checkHasAcked(t *testing.T, addr string, alias topo.TabletAlias, acked []int64) {
	t.Helper()
	have := ids(t, addr)
	for _, id := range acked {
		if !slices.Contains(have, id) {
			t.Errorf("%s lacks acknowledged id %d", alias, id)
		}
	}
}
