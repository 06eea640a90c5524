//go:build unix

package failover_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway/gatewaytest"
)

// TestUnreachableReplicaRepointedAfterFailover: of a shard's two
// replicas, one is frozen (SIGSTOP) when the primary is killed, so the
// failover can't repoint it; resumed, it still follows the dead primary.
// The controller notices and repoints it to the new primary, and it
// catches up with every acknowledged write.
func TestUnreachableReplicaRepointedAfterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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
	var frozen, other = "", ""
	for _, in := range env.Cluster.Instances {
		if in.Shard == victim && in != old {
			if frozen == "" {
				frozen = in.Alias.String()
				if err := in.Mysqld.Signal(syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
				defer in.Mysqld.Signal(syscall.SIGCONT)
				t.Logf("froze replica %s", in.Alias)
			} else {
				other = in.Alias.String()
			}
		}
	}
	killedAt := time.Now()
	if err := old.Mysqld.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed primary %s", old.Alias)
	if w.waitWrite(victim, killedAt, 30*time.Second).IsZero() {
		t.Fatalf("no write to service/%s within 30s of the kill (%v)", victim, w.lastErr())
	}
	primary := primaryTablet(t, ctx, store, "service", victim)
	if primary.Alias.String() != other {
		t.Fatalf("new primary: got %s, want the reachable replica %s", primary.Alias, other)
	}
	for _, in := range env.Cluster.Instances {
		if in.Alias.String() != frozen {
			continue
		}
		if err := in.Mysqld.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		t.Logf("resumed %s; new primary %s", in.Alias, primary.Alias)
		deadline := time.Now().Add(30 * time.Second)
		for queryOne(t, in.Mysqld.Addr(), "SHOW SLAVE STATUS", "Master_Port") != strconv.Itoa(primary.Port) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: still replicating from port %s after 30s, want %d (the new primary)", in.Alias,
					queryOne(t, in.Mysqld.Addr(), "SHOW SLAVE STATUS", "Master_Port"), primary.Port)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("%s repointed to %s", in.Alias, primary.Alias)
		w.stop()
		pos := queryOne(t, primary.Addr(), "SELECT @@global.gtid_binlog_pos")
		if got := queryOne(t, in.Mysqld.Addr(), fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 20)", pos)); got != "0" {
			t.Fatalf("%s did not catch up with %s", in.Alias, pos)
		}
		have := ids(t, in.Mysqld.Addr())
		for _, id := range w.ackedIn(victim) {
			if !slices.Contains(have, id) {
				t.Errorf("repointed replica %s lacks acknowledged id %d", in.Alias, id)
			}
		}
		t.Logf("%s has all %d acknowledged writes to service/%s", in.Alias, len(w.ackedIn(victim)), victim)
	}
}
