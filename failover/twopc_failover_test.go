package failover_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/twopc"
)

// TestTwoPCAcrossFailover kills a shard's primary in the middle of a
// two-shard commit, between XA PREPARE and XA COMMIT. Its replica has the
// prepared branch (MariaDB replicates XA PREPARE, acknowledged under
// semi-sync); the controller promotes it; the gateway's resolver finds the
// branch on the new primary and finishes it per the durable decision:
//
//   - killed after the commit decision: the client hears OK and both rows
//     are on the shards' primaries afterwards;
//   - killed after the prepares, with a rollback decided first (an
//     operator's `shardctl twopc resolve --force`): the client hears
//     1402 (XA_RBROLLBACK) and neither row is anywhere.
//
// Afterwards no instance (primaries, replicas, the restarted and fenced
// former primary) holds a prepared branch.
func TestTwoPCAcrossFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The commit's failpoint hook; armed for one commit at a time.
	var hook atomic.Pointer[func(string)]
	env, _, _ := startClusterWith(t, ctx, 1, func(c *gateway.Config) {
		c.TwoPC = gateway.TwoPCConfig{LeaseTTL: 2, ResolveInterval: 200 * time.Millisecond,
			Failpoint: func(point string) {
				if f := hook.Load(); f != nil {
					(*f)(point)
				}
			}}
	})
	store := env.Cluster.Store
	defer runController(t, ctx, store)()
	defer supervise(t, ctx, env.Cluster, 5*time.Second)()
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=10s&writeTimeout=10s", env.Gateway.Addr()))
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
	shardOf := shardMapper(t)
	// Two ids per transaction, one on each shard.
	idsOn := func(from int64) (low, high int64) {
		for id := from; low == 0 || high == 0; id++ {
			if shardOf(id) == "-80" && low == 0 {
				low = id
			} else if shardOf(id) == "80-" && high == 0 {
				high = id
			}
		}
		return low, high
	}
	resolveCfg := twopc.ResolveConfig{Client: store.Client(), Root: store.Root(), Conn: tablet.ConnConfig{User: tablet.RootUser},
		Primaries: func(ctx context.Context) ([]twopc.Primary, error) { return twopc.Primaries(ctx, store) }}

	type scenario struct {
		name       string
		victim     string
		point      string
		forceAbort bool // an operator decides rollback while the shard is down
		wantErr    uint16
		wantRows   bool
	}
	for i, sc := range []scenario{
		{name: "killed after the commit decision", victim: "-80", point: twopc.PointDecided, wantRows: true},
		{name: "killed after the prepares, rollback decided first", victim: "80-", point: twopc.PointPreparedAll, forceAbort: true, wantErr: 1402},
	} {
		t.Logf("--- %s: the primary of service/%s dies at %s", sc.name, sc.victim, sc.point)
		victim := currentPrimary(t, ctx, env.Cluster, sc.victim)
		replica := replicaInstance(t, ctx, env.Cluster, sc.victim)
		fired := make(chan struct{})
		f := func(point string) {
			if point != sc.point {
				return
			}
			hook.Store(nil)
			if err := victim.Mysqld.Kill(); err != nil {
				t.Error(err)
			}
			t.Logf("failpoint %s: SIGKILLed %s, the primary of service/%s", point, victim.Alias, sc.victim)
			if n := xaRecoverCount(t, replica.Mysqld.Addr()); n != 1 {
				t.Errorf("replica %s of the killed primary: got %d prepared branches, want 1 (the replicated XA PREPARE)", replica.Alias, n)
			} else {
				t.Logf("replica %s holds the prepared branch", replica.Alias)
			}
			if sc.forceAbort {
				// As `shardctl twopc resolve all --force` does: the
				// reachable shard's branch stays (its owner is connected),
				// the decision is what counts.
				_, err := twopc.Resolve(ctx, resolveCfg, "", true)
				t.Logf("operator forces a rollback decision while service/%s is down (its pass: %s)", sc.victim, errString(err))
			}
			close(fired)
		}
		hook.Store(&f)

		low, high := idsOn(int64(1000 * (i + 1)))
		err := runTx(ctx, db, low, high)
		select {
		case <-fired:
		default:
			t.Fatalf("the failpoint %s never fired (commit: %v)", sc.point, err)
		}
		var me *mysql.MySQLError
		switch {
		case sc.wantErr == 0 && err != nil:
			t.Fatalf("commit: got %v, want OK (the decision was durable)", err)
		case sc.wantErr != 0 && (!errors.As(err, &me) || me.Number != sc.wantErr):
			t.Fatalf("commit: got %v, want error %d", err, sc.wantErr)
		}
		t.Logf("client's commit: %v", errString(err))

		// Failover, then the resolver finishes the branch on the new
		// primary.
		deadline := time.Now().Add(60 * time.Second)
		for {
			txs, ierr := twopc.Inspect(ctx, resolveCfg)
			p := primaryTablet(t, ctx, store, "service", sc.victim)
			if ierr == nil && len(txs) == 0 && p.Alias != victim.Alias {
				t.Logf("new primary of service/%s: %s; no unresolved transaction", sc.victim, p.Alias)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not resolved within 60s of the kill: %d unresolved (err %v), primary %s", len(txs), ierr, p.Alias)
			}
			time.Sleep(200 * time.Millisecond)
		}
		for shard, id := range map[string]int64{"-80": low, "80-": high} {
			p := primaryTablet(t, ctx, store, "service", shard)
			if got := slices.Contains(ids(t, p.Addr()), id); got != sc.wantRows {
				t.Errorf("row %d on the primary of service/%s (%s): got present=%v, want %v", id, shard, p.Alias, got, sc.wantRows)
			}
		}
		t.Logf("rows %d and %d present on the primaries: %v", low, high, sc.wantRows)

		// The killed one comes back (supervision) and is fenced; only
		// then can its shard fail over again.
		waitTabletType(t, ctx, store, victim.Alias, topo.TabletReplica, 60*time.Second)
		t.Logf("%s restarted and fenced into a replica", victim.Alias)
	}

	// No prepared branch anywhere, once replication has carried the
	// resolver's XA COMMIT / ROLLBACK to every instance.
	deadline := time.Now().Add(30 * time.Second)
	for _, in := range env.Cluster.Instances {
		for {
			n := xaRecoverCount(t, in.Mysqld.Addr())
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: %d prepared branches left, want none", in.Alias, n)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// runTx inserts low and high in one transaction through the gateway.
func runTx(ctx context.Context, db *sql.DB, low, high int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, id := range []int64{low, high} {
		if _, err := tx.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, 'tx')", id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func errString(err error) string {
	if err == nil {
		return "OK"
	}
	return err.Error()
}

// currentPrimary is the instance the topology names primary of a shard.
func currentPrimary(t *testing.T, ctx context.Context, c *localcluster.Cluster, shard string) *localcluster.Instance {
	t.Helper()
	p := primaryTablet(t, ctx, c.Store, "service", shard)
	for _, in := range c.Instances {
		if in.Alias == p.Alias {
			return in
		}
	}
	t.Fatalf("no instance %s", p.Alias)
	return nil
}

// replicaInstance is an instance the topology types replica in a shard.
func replicaInstance(t *testing.T, ctx context.Context, c *localcluster.Cluster, shard string) *localcluster.Instance {
	t.Helper()
	for _, in := range c.Instances {
		if in.Keyspace != "service" || in.Shard != shard {
			continue
		}
		if tb, err := c.Store.GetTablet(ctx, in.Alias); err == nil && tb.Type == topo.TabletReplica {
			return in
		}
	}
	t.Fatalf("service/%s has no replica", shard)
	return nil
}

// waitTabletType waits until the topology types a tablet typ.
func waitTabletType(t *testing.T, ctx context.Context, store *topo.Store, alias topo.TabletAlias, typ topo.TabletType, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		tb, err := store.GetTablet(ctx, alias)
		if err == nil && tb.Type == typ {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tablet %s: got %+v, %v, want type %s within %s", alias, tb, err, typ, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// xaRecoverCount is the number of prepared XA branches on an instance.
func xaRecoverCount(t *testing.T, addr string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: addr, User: tablet.RootUser})
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	defer c.Close()
	r, err := c.Execute(ctx, "XA RECOVER")
	if err != nil {
		t.Fatalf("XA RECOVER on %s: %v", addr, err)
	}
	return len(r.Rows)
}
