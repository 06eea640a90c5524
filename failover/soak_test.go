//go:build unix

package failover_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/twopc"
)

// soakKillsEnv sets the soak's number of SIGKILLs (default 5, about two
// minutes; `make soak` runs 20).
const soakKillsEnv = "SHARDGATE_SOAK_KILLS"

// soakDampWindow is the controller's damping window in the soak: short,
// so that a shard can fail over again soon (the default is 30 s).
const soakDampWindow = 3 * time.Second

// TestFailoverSoak is issue 13's failover soak, as `shardgate up` runs a
// cluster (the controller, the supervision that restarts dead mariadbds,
// the gateway with its 2PC resolver). Clients write at a steady rate
// through the gateway: single-row inserts, updates, and two-shard (2PC)
// transactions (soakLoad). Then:
//
//  1. the primary of a random shard is SIGKILLed, at least 5 times across
//     shards: each time a replica is promoted, writes to the shard
//     succeed again (the time from the kill is printed; target <= 5 s,
//     not asserted), and the killed instance is restarted by the
//     supervision and fenced into a replica of the new primary, so the
//     shard can fail over again;
//  2. a primary is frozen with SIGSTOP for longer than the detection
//     interval, then resumed: it is fenced, writes go to its replacement.
//
// Afterwards, with the clients stopped and the resolver's passes done:
// every acknowledged write is on the shards' current primaries (read
// directly), both rows of every acknowledged 2PC transaction and never
// just one row of any, and no instance holds a prepared XA branch.
func TestFailoverSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	kills := 5
	if v := os.Getenv(soakKillsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a number of kills", soakKillsEnv, v)
		}
		kills = n
	}
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(kills)*90*time.Second+3*time.Minute)
	defer cancel()
	// Each failover breaks the clients' connections; the driver would log
	// every one.
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))

	env, _, _ := startClusterWith(t, ctx, 1, func(c *gateway.Config) {
		c.TwoPC = gateway.TwoPCConfig{LeaseTTL: 2, ResolveInterval: 500 * time.Millisecond}
	})
	store := env.Cluster.Store
	defer runControllerWith(t, ctx, store, func(c *failover.Config) { c.DampWindow = soakDampWindow })()
	restartDelay := failover.DefaultDetectAfter + 3*time.Second // as `up` has it
	defer supervise(t, ctx, env.Cluster, restartDelay)()

	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=6s&writeTimeout=6s", env.Gateway.Addr()))
	load := startSoakLoad(t, db, shardMapper(t), 50*time.Millisecond)
	defer load.stop()
	time.Sleep(2 * time.Second)
	t.Logf("load running: %s", load.summary())

	// 1. SIGKILLs.
	shards := []string{"-80", "80-"}
	lastFailover := map[string]time.Time{}
	var trace []string
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	first := r.IntN(len(shards))
	for k := 1; k <= kills; k++ {
		// Across shards: they take turns, from a random one.
		shard := shards[(first+k)%len(shards)]
		if wait := soakDampWindow - time.Since(lastFailover[shard]); wait > 0 {
			time.Sleep(wait + time.Second)
		}
		victim := currentPrimary(t, ctx, env.Cluster, shard)
		// Its replica has caught up, as it would before a failover in a
		// healthy estate (a replica just fenced may lag by thousands of
		// transactions: promoting it would wait for them, up to the
		// controller's CatchUpTimeout).
		caughtUp(t, ctx, env.Cluster, shard, victim)
		killedAt := time.Now()
		if err := victim.Mysqld.Kill(); err != nil {
			t.Fatal(err)
		}
		firstOK := load.waitAckAfter(shard, killedAt, 60*time.Second)
		if firstOK.IsZero() {
			t.Fatalf("kill %d: no write to service/%s succeeded within 60s of killing %s (%s)", k, shard, victim.Alias, load.summary())
		}
		newPrimary := primaryTablet(t, ctx, store, "service", shard)
		lastFailover[shard] = time.Now()
		line := fmt.Sprintf("kill %d: SIGKILL primary of service/%s %s; new primary %s; writes succeed %s after the kill",
			k, shard, victim.Alias, newPrimary.Alias, firstOK.Sub(killedAt).Round(time.Millisecond))
		if newPrimary.Alias == victim.Alias {
			line += " (the killed one came back before a failover: still primary)"
		}
		// The killed one must be back as a replica before its shard can
		// fail over again (or, if it came back before a failover, the
		// primary again).
		fenced, state := waitFenced(ctx, store, victim.Alias, killedAt, 60*time.Second)
		if newPrimary.Alias == victim.Alias {
			fenced, state = waitRunning(victim, 60*time.Second), "restarted in place"
		}
		line += "; " + state
		t.Logf("%s", line)
		if !fenced {
			t.Logf("%s", diagnose(t, victim.Mysqld.Addr()))
			t.Fatalf("kill %d: %s did not rejoin as a replica (%s): the shard could not fail over again", k, victim.Alias, state)
		}
		trace = append(trace, line)
	}

	// 2. SIGSTOP, longer than the detection interval.
	shard := shards[r.IntN(len(shards))]
	if wait := soakDampWindow - time.Since(lastFailover[shard]); wait > 0 {
		time.Sleep(wait + time.Second)
	}
	frozen := currentPrimary(t, ctx, env.Cluster, shard)
	caughtUp(t, ctx, env.Cluster, shard, frozen)
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
	firstOK := load.waitAckAfter(shard, stoppedAt, 60*time.Second)
	if firstOK.IsZero() {
		t.Fatalf("SIGSTOP: no write to service/%s succeeded within 60s of freezing %s (%s)", shard, frozen.Alias, load.summary())
	}
	for time.Since(stoppedAt) < failover.DefaultDetectAfter+time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	newPrimary := primaryTablet(t, ctx, store, "service", shard)
	resume()
	line := fmt.Sprintf("freeze: SIGSTOP primary of service/%s %s for %s; new primary %s; writes succeed %s after the freeze",
		shard, frozen.Alias, time.Since(stoppedAt).Round(time.Millisecond), newPrimary.Alias, firstOK.Sub(stoppedAt).Round(time.Millisecond))
	if newPrimary.Alias == frozen.Alias {
		t.Errorf("SIGSTOP: service/%s still names the frozen %s primary after %s", shard, frozen.Alias, time.Since(stoppedAt).Round(time.Millisecond))
	}
	fenced, state := waitFenced(ctx, store, frozen.Alias, stoppedAt, 60*time.Second)
	line += "; " + state
	trace = append(trace, line)
	t.Logf("%s", line)
	if !fenced {
		t.Errorf("SIGSTOP: %s not fenced after SIGCONT (%s)", frozen.Alias, state)
	}
	if got := queryOne(t, frozen.Mysqld.Addr(), "SELECT @@global.read_only"); got != "1" {
		t.Errorf("resumed former primary %s: read_only got %s, want 1", frozen.Alias, got)
	}

	time.Sleep(time.Second)
	load.stop()
	t.Logf("load stopped: %s; most frequent failures:%s", load.summary(), load.failures(6))

	// The resolver's passes: no decision record, no prepared branch on a
	// primary.
	resolveCfg := twopc.ResolveConfig{Client: store.Client(), Root: store.Root(), Conn: tablet.ConnConfig{User: tablet.RootUser},
		Primaries: func(ctx context.Context) ([]twopc.Primary, error) { return twopc.Primaries(ctx, store) }}
	deadline := time.Now().Add(60 * time.Second)
	for {
		txs, err := twopc.Inspect(ctx, resolveCfg)
		if err == nil && len(txs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("2PC transactions unresolved 60s after the load stopped: %d (err %v)", len(txs), err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	load.verify(t, func(query string) map[int64]int64 {
		out := map[int64]int64{}
		for _, shard := range shards {
			p := primaryTablet(t, ctx, store, "service", shard)
			for k, v := range pairsOn(t, p.Addr(), query) {
				out[k] = v
			}
		}
		return out
	})
	// Replication carries the resolver's XA COMMIT/ROLLBACK to every
	// instance.
	deadline = time.Now().Add(30 * time.Second)
	for _, in := range env.Cluster.Instances {
		for {
			n := xaRecoverCount(t, in.Mysqld.Addr())
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: %d prepared XA branches left, want none", in.Alias, n)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	recs, err := failover.ListRecoveries(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("soak trace:")
	for _, line := range trace {
		t.Logf("  %s", line)
	}
	t.Logf("  %d recoveries recorded; %s; every acknowledged write present, no prepared XA branch left; run took %s",
		len(recs), load.summary(), time.Since(started).Round(time.Second))
	t.Logf("  (a former primary that kept transactions its replacement lacks is rebuilt by the supervision: see the log's \"rebuilding\" lines)")
}

// waitFenced waits until the topology types a former primary replica
// again (restarted if it died, and fenced by the controller) and says how
// it went.
func waitFenced(ctx context.Context, store *topo.Store, alias topo.TabletAlias, since time.Time, limit time.Duration) (bool, string) {
	deadline := time.Now().Add(limit)
	for {
		tb, err := store.GetTablet(ctx, alias)
		if err == nil && tb.Type == topo.TabletReplica {
			return true, fmt.Sprintf("%s a replica again %s after", alias, time.Since(since).Round(time.Millisecond))
		}
		if time.Now().After(deadline) {
			if err != nil {
				return false, err.Error()
			}
			return false, fmt.Sprintf("%s still %s after %s", alias, tb.Type, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pairsOn runs a two-column integer query on an instance directly.
func pairsOn(t *testing.T, addr, query string) map[int64]int64 {
	t.Helper()
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", addr))
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s on %s: %v", query, addr, err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var k, v int64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitRunning waits until a killed instance runs again.
func waitRunning(in *localcluster.Instance, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for !in.Mysqld.Running() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// caughtUp waits until every replica of a shard has applied what its
// primary has.
func caughtUp(t *testing.T, ctx context.Context, c *localcluster.Cluster, shard string, primary *localcluster.Instance) {
	t.Helper()
	pos := queryOne(t, primary.Mysqld.Addr(), "SELECT @@global.gtid_binlog_pos")
	for _, in := range c.Instances {
		if in.Keyspace != "service" || in.Shard != shard || in == primary {
			continue
		}
		if tb, err := c.Store.GetTablet(ctx, in.Alias); err != nil || tb.Type != topo.TabletReplica {
			continue
		}
		// A rebuilt replica replays the shard's whole history: minutes
		// at most here (CI at load average 20 took more than 150 s).
		for try := 1; queryOne(t, in.Mysqld.Addr(), fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 25)", pos)) != "0"; try++ {
			if try == 12 {
				t.Fatalf("replica %s did not apply %s within 300s: %s", in.Alias, pos, diagnose(t, in.Mysqld.Addr()))
			}
		}
	}
}

// diagnose says what an instance that would not replicate holds.
func diagnose(t *testing.T, addr string) string {
	t.Helper()
	out := fmt.Sprintf("%s: binlog %s, slave %s, current %s; SQL error: %s; prepared XA: %d; last binlog events:",
		addr, queryOne(t, addr, "SELECT @@global.gtid_binlog_pos"), queryOne(t, addr, "SELECT @@global.gtid_slave_pos"),
		queryOne(t, addr, "SELECT @@global.gtid_current_pos"), queryOne(t, addr, "SHOW SLAVE STATUS", "Last_SQL_Error"), xaRecoverCount(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: addr, User: tablet.RootUser})
	if err != nil {
		return out + err.Error()
	}
	defer c.Close()
	logs, err := c.Execute(ctx, "SHOW BINARY LOGS")
	if err != nil || len(logs.Rows) == 0 {
		return fmt.Sprint(out, err)
	}
	last := string(logs.Rows[len(logs.Rows)-1][0])
	ev, err := c.Execute(ctx, "SHOW BINLOG EVENTS IN '"+last+"'")
	if err != nil {
		return fmt.Sprint(out, err)
	}
	from := max(0, len(ev.Rows)-12)
	for _, row := range ev.Rows[from:] {
		out += fmt.Sprintf("\n    %s %s %s", row[1], row[2], row[5])
	}
	return out
}
