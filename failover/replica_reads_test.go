package failover_test

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// replicaLagLimit is the gateway's --replica-lag-limit in these tests:
// short, so a replica delayed on purpose passes it within seconds.
const replicaLagLimit = 3 * time.Second

// TestReplicaReadsFollowHealth: reads of an `@replica` session land on
// the shard's replicas (seen by @@server_id); a replica whose SQL thread
// is stopped, or that lags past --replica-lag-limit, serves none within
// seconds, and a row written after the stop is read from the healthy
// one; with no healthy replica left reads fall back to the primary, or,
// with replica_reads = 'strict', fail with 1105 naming the problem; START
// SLAVE brings the replicas back. SHOW VITESS_TABLETS shows the health
// and lag columns moving along.
func TestReplicaReadsFollowHealth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env := startReplicaCluster(t, ctx)
	stopCtrl := runController(t, ctx, env.Cluster.Store)
	defer stopCtrl()

	const shard = "-80"
	primary := env.Cluster.Primary("service", shard)
	var replicas []*localcluster.Instance
	for _, in := range env.Cluster.Instances {
		if in.Keyspace == "service" && in.Shard == shard && in.Type == topo.TabletReplica {
			replicas = append(replicas, in)
		}
	}
	if len(replicas) != 2 {
		t.Fatalf("service/%s: got %d replicas, want 2", shard, len(replicas))
	}
	a, b := replicas[0], replicas[1]
	idOf := map[string]string{}
	for _, in := range []*localcluster.Instance{primary, a, b} {
		idOf[queryOne(t, in.Mysqld.Addr(), "SELECT @@server_id")] = in.Alias.String()
	}

	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", env.Gateway.Addr()))
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
	shardOf := shardMapper(t)
	nextID := int64(0)
	write := func() int64 {
		t.Helper()
		for {
			nextID++
			if shardOf(nextID) == shard {
				break
			}
		}
		gatewaytest.MustExec(t, db, "INSERT INTO t (id, v) VALUES (?, 'x')", nextID)
		return nextID
	}
	write()
	waitHealthRecords(t, ctx, env.Cluster.Store, len(env.Cluster.Instances))
	// A quiet estate keeps etcd quiet: in 3 s (6 passes over 6 tablets)
	// at most the periodic refresh of each record is written.
	if n := healthWrites(t, ctx, env.Cluster.Store, 3*time.Second); n > len(env.Cluster.Instances) {
		t.Errorf("health records written in 3 quiet seconds: got %d, want at most %d (one refresh per tablet)", n, len(env.Cluster.Instances))
	} else {
		t.Logf("health records written in 3 quiet seconds: %d", n)
	}

	// One session on the shard's replicas, one on the keyspace's.
	shardReads := session(t, ctx, db, "USE `service:-80@replica`")
	ksReads := session(t, ctx, db, "USE `service@replica`")

	// (a) Reads land on both replicas, never on the primary.
	if got, want := servedBy(t, shardReads, idOf, 20), sorted(a.Alias.String(), b.Alias.String()); !slices.Equal(got, want) {
		t.Fatalf("@replica reads of service/%s: served by %v, want %v", shard, got, want)
	}
	// Writes in a replica session are refused, as in Vitess.
	if _, err := ksReads.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (1000001, 'no')"); mysqlErrno(err) != 1290 {
		t.Errorf("INSERT in a @replica session: got %v, want error 1290", err)
	}

	// (b) A's SQL thread stops: within seconds A serves no reads, and a
	// row written after the stop is read (from B).
	execOn(t, a.Mysqld.Addr(), "STOP SLAVE SQL_THREAD")
	waitServedBy(t, shardReads, idOf, []string{b.Alias.String()}, "after STOP SLAVE SQL_THREAD on "+a.Alias.String())
	id := write()
	waitCaughtUp(t, primary, b)
	for range 10 {
		var got int64
		if err := ksReads.QueryRowContext(ctx, "SELECT id FROM t WHERE id = ?", id).Scan(&got); err != nil || got != id {
			t.Fatalf("@replica read of id %d written after %s stopped applying: got %d, %v, want the row (from %s)", id, a.Alias, got, err, b.Alias)
		}
	}
	waitTabletRow(t, db, a.Alias.String(), func(r tabletRow) bool {
		return r.state == "NOT_SERVING" && r.health == "replication SQL thread stopped" && r.replication == "sql stopped" && !r.lag.Valid
	}, "NOT_SERVING, replication SQL thread stopped, lag NULL")

	// With B stopped too, no replica is healthy: reads go to the primary;
	// a strict session gets an error, and still reads the other shard's
	// replicas.
	execOn(t, b.Mysqld.Addr(), "STOP SLAVE SQL_THREAD")
	waitServedBy(t, shardReads, idOf, []string{primary.Alias.String()}, "with both replicas' SQL threads stopped")
	if _, err := shardReads.ExecContext(ctx, "SET replica_reads = 'strict'"); err != nil {
		t.Fatal(err)
	}
	var sid string
	err := shardReads.QueryRowContext(ctx, "SELECT @@server_id").Scan(&sid)
	if mysqlErrno(err) != 1105 || !strings.Contains(err.Error(), "no healthy replica of service/-80") || !strings.Contains(err.Error(), "SQL thread stopped") {
		t.Errorf("strict replica read with no healthy replica: got %q, %v, want error 1105 saying no healthy replica of service/-80 and why", sid, err)
	}
	other := session(t, ctx, db, "USE `service:80-@replica`")
	if _, err := other.ExecContext(ctx, "SET replica_reads = 'strict'"); err != nil {
		t.Fatal(err)
	}
	if err := other.QueryRowContext(ctx, "SELECT @@server_id").Scan(&sid); err != nil {
		t.Errorf("strict replica read of service/80- while -80's replicas are stopped: %v, want a row", err)
	}
	if _, err := shardReads.ExecContext(ctx, "SET replica_reads = 'bogus'"); mysqlErrno(err) != 1231 {
		t.Errorf("SET replica_reads = 'bogus': got %v, want error 1231", err)
	}

	// START SLAVE: both serve again, healthy, lag known.
	execOn(t, a.Mysqld.Addr(), "START SLAVE")
	execOn(t, b.Mysqld.Addr(), "START SLAVE")
	if _, err := shardReads.ExecContext(ctx, "SET replica_reads = 'fallback'"); err != nil {
		t.Fatal(err)
	}
	waitServedBy(t, shardReads, idOf, sorted(a.Alias.String(), b.Alias.String()), "after START SLAVE on both replicas")
	waitTabletRow(t, db, a.Alias.String(), func(r tabletRow) bool {
		return r.state == "SERVING" && r.health == "healthy" && r.replication == "running" && r.lag.Valid
	}, "SERVING, healthy, replication running, a lag")

	// A replica delayed past the lag limit serves no reads; its lag shows.
	execOn(t, a.Mysqld.Addr(), "STOP SLAVE")
	execOn(t, a.Mysqld.Addr(), "CHANGE MASTER TO MASTER_DELAY = 60")
	execOn(t, a.Mysqld.Addr(), "START SLAVE")
	deadline := time.Now().Add(15 * time.Second)
	for lagOf(t, a) <= int64(replicaLagLimit/time.Second) {
		write()
		if time.Now().After(deadline) {
			t.Fatalf("%s with MASTER_DELAY = 60 never lagged more than %s", a.Alias, replicaLagLimit)
		}
		time.Sleep(500 * time.Millisecond)
	}
	waitServedBy(t, shardReads, idOf, []string{b.Alias.String()}, fmt.Sprintf("with %s delayed past the %s lag limit", a.Alias, replicaLagLimit))
	row := waitTabletRow(t, db, a.Alias.String(), func(r tabletRow) bool {
		return r.state == "NOT_SERVING" && strings.Contains(r.health, "over the 3s limit") && r.lag.Valid
	}, "NOT_SERVING, lag over the 3s limit")
	t.Logf("delayed replica in SHOW VITESS_TABLETS: %+v", row)
	execOn(t, a.Mysqld.Addr(), "STOP SLAVE")
	execOn(t, a.Mysqld.Addr(), "CHANGE MASTER TO MASTER_DELAY = 0")
	execOn(t, a.Mysqld.Addr(), "START SLAVE")
	waitServedBy(t, shardReads, idOf, sorted(a.Alias.String(), b.Alias.String()), "after the delay was removed")
}

// startReplicaCluster starts keyspace service (2 shards, hash vindex on
// t.id) with two replicas per shard and a gateway whose lag limit is
// replicaLagLimit; they stop when the test ends.
func startReplicaCluster(t *testing.T, ctx context.Context) *gatewaytest.Env {
	t.Helper()
	cfg := localcluster.Config{
		Dir: filepath.Join(t.TempDir(), "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{{Name: "service", Shards: 2, VSchema: &vschema.Keyspace{
			Sharded:  true,
			Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			Tables:   map[string]*vschema.Table{"t": {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}}}},
		}}},
		Replicas: 2,
		EtcdAddr: "127.0.0.1:0",
	}
	env, err := gatewaytest.Start(ctx, cfg, func(c *localcluster.Cluster) gateway.Config {
		return gateway.Config{ListenAddr: "127.0.0.1:0", Topo: c.Store, ReplicaLagLimit: replicaLagLimit}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	return env
}

// session is one client connection to the gateway, set up with setup.
func session(t *testing.T, ctx context.Context, db *sql.DB, setup string) *sql.Conn {
	t.Helper()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.ExecContext(ctx, setup); err != nil {
		t.Fatalf("%s: %v", setup, err)
	}
	return c
}

// servedBy runs SELECT @@server_id n times and returns the aliases that
// answered, sorted, each once.
func servedBy(t *testing.T, c *sql.Conn, idOf map[string]string, n int) []string {
	t.Helper()
	seen := map[string]bool{}
	for range n {
		var id string
		if err := c.QueryRowContext(context.Background(), "SELECT @@server_id").Scan(&id); err != nil {
			t.Fatalf("SELECT @@server_id: %v", err)
		}
		seen[cmp.Or(idOf[id], "server_id "+id)] = true
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// waitServedBy waits up to 5 s (the controller checks every 500 ms) for
// 20 reads in a row to be served by exactly want.
func waitServedBy(t *testing.T, c *sql.Conn, idOf map[string]string, want []string, when string) {
	t.Helper()
	start := time.Now()
	var got []string
	for time.Since(start) < 5*time.Second {
		if got = servedBy(t, c, idOf, 20); slices.Equal(got, want) {
			t.Logf("%s: reads served by %v after %s", when, want, time.Since(start).Round(10*time.Millisecond))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: reads served by %v, want %v within 5s", when, got, want)
}

// waitCaughtUp waits until replica has applied everything the primary
// has written.
func waitCaughtUp(t *testing.T, primary, replica *localcluster.Instance) {
	t.Helper()
	pos := queryOne(t, primary.Mysqld.Addr(), "SELECT @@global.gtid_binlog_pos")
	if got := queryOne(t, replica.Mysqld.Addr(), fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 10)", pos)); got != "0" {
		t.Fatalf("%s did not apply the primary's %s within 10s", replica.Alias, pos)
	}
}

// waitHealthRecords waits until the controller has written a health
// record for each of n tablets.
func waitHealthRecords(t *testing.T, ctx context.Context, store *topo.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := store.ListTabletHealth(ctx)
		if err == nil && len(list) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health records: got %d, %v, want %d within 10s", len(list), err, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// healthWrites counts the writes to health records during d.
func healthWrites(t *testing.T, ctx context.Context, store *topo.Store, d time.Duration) int {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	n := 0
	for resp := range store.Client().Watch(wctx, store.Root()+"/health/", clientv3.WithPrefix()) {
		n += len(resp.Events)
	}
	return n
}

// tabletRow is a row of SHOW VITESS_TABLETS.
type tabletRow struct {
	alias, state, health, replication string
	lag                               sql.NullInt64
}

// waitTabletRow waits up to 5 s for SHOW VITESS_TABLETS to show alias in
// a row ok accepts, and returns it.
func waitTabletRow(t *testing.T, db *sql.DB, alias string, ok func(tabletRow) bool, want string) tabletRow {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var last tabletRow
	for {
		rows := gatewaytest.QueryStrings(t, db, "SHOW VITESS_TABLETS")
		cols := showTabletsColumns(t, db)
		for _, r := range rows {
			if r[cols["Alias"]] != alias {
				continue
			}
			last = tabletRow{alias: alias, state: r[cols["State"]], health: r[cols["Health"]], replication: r[cols["Replication"]]}
			if v := r[cols["ReplicationLagSeconds"]]; v != "NULL" {
				_, _ = fmt.Sscan(v, &last.lag.Int64)
				last.lag.Valid = true
			}
		}
		if ok(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("SHOW VITESS_TABLETS row of %s: got %+v, want %s within 5s", alias, last, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// showTabletsColumns maps SHOW VITESS_TABLETS's column names to offsets;
// Vitess's eight columns must come first, in its order.
func showTabletsColumns(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query("SHOW VITESS_TABLETS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	vitess := []string{"Cell", "Keyspace", "Shard", "TabletType", "State", "Alias", "Hostname", "PrimaryTermStartTime"}
	if len(names) < len(vitess) || !slices.Equal(names[:len(vitess)], vitess) {
		t.Fatalf("SHOW VITESS_TABLETS columns: got %v, want Vitess's %v first", names, vitess)
	}
	out := map[string]int{}
	for i, n := range names {
		out[n] = i
	}
	return out
}

// lagOf is an instance's Seconds_Behind_Master read directly; -1 for NULL.
func lagOf(t *testing.T, in *localcluster.Instance) int64 {
	t.Helper()
	v := queryOne(t, in.Mysqld.Addr(), "SHOW SLAVE STATUS", "Seconds_Behind_Master")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func mysqlErrno(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
