package failover_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/topo"
)

// TestFormerPrimaryLackingAPreparedXAIsRebuilt: a former primary whose
// binlog has an XA PREPARE its engine lost (seen in the soak test: killed
// between writing the XA PREPARE to its binlog and preparing it in InnoDB)
// never fetches that PREPARE again, so replicating the XA COMMIT that the
// promoted replica later writes stops with XAER_NOTA (1397). Made here on
// purpose: the branch is prepared (and replicated), then rolled back on
// the primary alone without binlogging, and the primary shut down cleanly
// (a crash's recovery might cut the PREPARE from the binlog's tail, and
// the instance would then follow without error). Supervision must rebuild it from
// the new primary, and the controller fence it into a replica that has
// the committed row.
func TestFormerPrimaryLackingAPreparedXAIsRebuilt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a rebuild under load takes a minute or more
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

	execAllOn(t, old.Mysqld.Addr(), "XA START 'lost'", "INSERT INTO service.t (id, v) VALUES (-3, 'prepared')", "XA END 'lost'", "XA PREPARE 'lost'")
	execAllOn(t, old.Mysqld.Addr(), "SET SESSION sql_log_bin = 0", "XA ROLLBACK 'lost'")
	if err := old.Mysqld.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for primaryTablet(t, ctx, store, "service", victim).Alias != replica.Alias {
		if time.Now().After(deadline) {
			t.Fatalf("service/%s: %s not promoted in place of the killed %s", victim, replica.Alias, old.Alias)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The decision the 2PC resolver would take: commit the branch the
	// promoted replica holds prepared.
	execOn(t, replica.Mysqld.Addr(), "XA COMMIT 'lost'")

	waitTabletType(t, ctx, store, old.Alias, topo.TabletReplica, 90*time.Second)
	pos := queryOne(t, replica.Mysqld.Addr(), "SELECT @@global.gtid_binlog_pos")
	if got := queryOne(t, old.Mysqld.Addr(), fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 30)", pos)); got != "0" {
		t.Fatalf("rebuilt %s did not catch up with %s", old.Alias, pos)
	}
	if back := ids(t, old.Mysqld.Addr()); !slices.Contains(back, -3) {
		t.Errorf("rebuilt %s lacks row -3 of the XA transaction its new primary committed: %v", old.Alias, back)
	}
	if n := xaRecoverCount(t, old.Mysqld.Addr()); n != 0 {
		t.Errorf("rebuilt %s: got %d prepared XA branches, want none", old.Alias, n)
	}
}
