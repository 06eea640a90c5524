package failover_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// TestFailoverKeepsAcknowledgedWrites kills a shard's primary with
// SIGKILL while a client writes through the gateway: the controller
// promotes the replica, writes to the shard succeed again, every write the
// client saw acknowledged is on the shards' primaries afterwards, and the
// recovery is recorded. The killed instance, restarted, comes back fenced:
// read-only, a replica of the new primary.
func TestFailoverKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, cfg, stopEnv := startCluster(t, ctx)

	stopCtrl := runController(t, ctx, env.Cluster.Store)
	defer stopCtrl()

	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=3s&writeTimeout=3s", env.Gateway.Addr()))
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")

	const victim = "-80"
	shardOf := shardMapper(t)
	w := startWriter(db, shardOf)
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
	t.Logf("kill of the primary of service/%s to the first successful write: %s", victim, firstOK.Sub(killedAt).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	w.stop()

	// Every acknowledged id is on the shards' primaries, as the topology
	// now names them.
	store := env.Cluster.Store
	var have []int64
	for _, shard := range []string{"-80", "80-"} {
		primary := primaryTablet(t, ctx, store, "service", shard)
		if shard == victim && primary.Alias == killed.Alias {
			t.Fatalf("service/%s: the topology still names the killed %s as primary", shard, killed.Alias)
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

	recs, err := failover.ListRecoveries(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	newPrimary := primaryTablet(t, ctx, store, "service", victim)
	if len(recs) != 1 || recs[0].Keyspace != "service" || recs[0].Shard != victim ||
		recs[0].OldPrimary != killed.Alias.String() || recs[0].NewPrimary != newPrimary.Alias.String() {
		t.Fatalf("recoveries: got %s, want one of service/%s from %s to %s", recoveriesString(recs), victim, killed.Alias, newPrimary.Alias)
	}
	t.Logf("recovery: %s", recoveriesString(recs))
	if tb, err := store.GetTablet(ctx, killed.Alias); err != nil || tb.Type != topo.TabletDrained {
		t.Fatalf("killed primary's tablet: got %+v, %v, want type drained", tb, err)
	}

	// The killed instance comes back: fenced, a read-only replica of the
	// new primary with every acknowledged write.
	if err := killed.Mysqld.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		tb, err := store.GetTablet(ctx, killed.Alias)
		if err == nil && tb.Type == topo.TabletReplica {
			break
		}
		if time.Now().After(deadline) {
			// The one case where it may not become a replica: it wrote a
			// transaction to its binlog that no replica received before the
			// kill (never acknowledged to the client under AFTER_SYNC) and
			// crash recovery kept it. Then it must stay drained and
			// read-only.
			if errant := errantTransactions(t, killed.Mysqld.Addr(), killed.Alias, recs[0].Position); errant != "" && err == nil && tb.Type == topo.TabletDrained {
				t.Logf("restarted former primary has a transaction the new primary lacks (%s): it stays drained", errant)
				if got := queryOne(t, killed.Mysqld.Addr(), "SELECT @@global.read_only"); got != "1" {
					t.Errorf("restarted former primary left drained: read_only got %s, want 1", got)
				}
				return
			}
			t.Fatalf("restarted former primary %s: got tablet %+v, %v, want type replica within 20s", killed.Alias, tb, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := queryOne(t, killed.Mysqld.Addr(), "SELECT @@global.read_only"); got != "1" {
		t.Errorf("restarted former primary: read_only got %s, want 1", got)
	}
	if got := queryOne(t, killed.Mysqld.Addr(), "SHOW SLAVE STATUS", "Master_Port"); got != strconv.Itoa(newPrimary.Port) {
		t.Errorf("restarted former primary: replicates from port %s, want %d (the new primary)", got, newPrimary.Port)
	}
	pos := queryOne(t, newPrimary.Addr(), "SELECT @@global.gtid_binlog_pos")
	if got := queryOne(t, killed.Mysqld.Addr(), fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 10)", pos)); got != "0" {
		t.Fatalf("restarted former primary did not catch up with the new primary's %s", pos)
	}
	back := ids(t, killed.Mysqld.Addr())
	for _, id := range w.ackedIn(victim) {
		if !slices.Contains(back, id) {
			t.Errorf("restarted former primary lacks acknowledged id %d", id)
		}
	}

	// Damping: the new primary dying within DampWindow of the failover is
	// left alone (a flapping shard does not bounce between instances).
	var promoted *localcluster.Instance
	for _, in := range env.Cluster.Instances {
		if in.Alias == newPrimary.Alias {
			promoted = in
		}
	}
	if err := promoted.Mysqld.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(failover.DefaultDetectAfter + 2*time.Second)
	if recs, err := failover.ListRecoveries(ctx, store); err != nil || len(recs) != 1 {
		t.Errorf("recoveries after the new primary died within the damping window: got %s, %v, want the first one only", recoveriesString(recs), err)
	}
	if tb := primaryTablet(t, ctx, store, "service", victim); tb.Alias != newPrimary.Alias {
		t.Errorf("primary after the new primary died within the damping window: got %s, want %s still", tb.Alias, newPrimary.Alias)
	}

	// The whole cluster restarted (`shardgate up` again) keeps the
	// primary the failover chose.
	stopCtrl()
	stopEnv()
	again, err := localcluster.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop(context.Background())
	if p := again.Primary("service", victim); p == nil || p.Alias != newPrimary.Alias {
		t.Fatalf("after a restart, service/%s's primary: got %+v, want %s", victim, p, newPrimary.Alias)
	}
	if tb := primaryTablet(t, ctx, again.Store, "service", victim); tb.Alias != newPrimary.Alias || tb.Type != topo.TabletPrimary {
		t.Errorf("after a restart, the topology's primary of service/%s: got %+v, want %s", victim, tb, newPrimary.Alias)
	}
	for _, in := range again.Instances {
		if in.Alias == killed.Alias {
			if got := queryOne(t, in.Mysqld.Addr(), "SELECT @@global.read_only"); in.Type != topo.TabletReplica || got != "1" {
				t.Errorf("after a restart, the former primary %s: got type %s, read_only %s, want a read-only replica", in.Alias, in.Type, got)
			}
		}
	}
}

// startCluster starts keyspace service (2 shards, hash vindex on t.id),
// one replica per shard, and a gateway. The cluster is stopped when the
// test ends unless the test stopped it first (the stop returned).
func startCluster(t *testing.T, ctx context.Context) (*gatewaytest.Env, localcluster.Config, func()) {
	t.Helper()
	return startClusterWith(t, ctx, 1, nil)
}

// startClusterWith is startCluster with replicas per shard and the
// gateway's config changed by tweak (if not nil).
func startClusterWith(t *testing.T, ctx context.Context, replicas int, tweak func(*gateway.Config)) (*gatewaytest.Env, localcluster.Config, func()) {
	t.Helper()
	dir := t.TempDir()
	cfg := localcluster.Config{
		Dir: filepath.Join(dir, "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{{Name: "service", Shards: 2, VSchema: &vschema.Keyspace{
			Sharded:  true,
			Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			Tables:   map[string]*vschema.Table{"t": {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}}}},
		}}},
		Replicas: replicas,
		EtcdAddr: "127.0.0.1:0",
	}
	env, err := gatewaytest.Start(ctx, cfg, func(c *localcluster.Cluster) gateway.Config {
		gc := gateway.Config{ListenAddr: "127.0.0.1:0", Topo: c.Store}
		if tweak != nil {
			tweak(&gc)
		}
		return gc
	})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() { once.Do(env.Stop) }
	t.Cleanup(stop)
	return env, cfg, stop
}

// shardMapper returns which of the two shards an id lives on.
func shardMapper(t *testing.T) func(int64) string {
	t.Helper()
	vx, err := vindex.New("hash", "hash", nil)
	if err != nil {
		t.Fatal(err)
	}
	hash := vx.(vindex.Functional)
	low, err := vindex.ParseKeyRange("-80")
	if err != nil {
		t.Fatal(err)
	}
	return func(id int64) string {
		ksid, err := hash.Map(id)
		if err != nil {
			panic(err)
		}
		if low.Contains(ksid) {
			return "-80"
		}
		return "80-"
	}
}

// writer inserts ids 1, 2, 3... (or from another first id) through the gateway, one at a time, and
// records those acknowledged.
type writer struct {
	db      *sql.DB
	shardOf func(int64) string
	done    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once

	mu    sync.Mutex
	acked map[string][]int64
	// sent and at are when each acknowledged insert was sent and answered.
	sent, at map[string][]time.Time
	err      error
}

func startWriter(db *sql.DB, shardOf func(int64) string) *writer {
	return startWriterAt(db, shardOf, 1)
}

// startWriterAt is startWriter inserting ids from first on.
func startWriterAt(db *sql.DB, shardOf func(int64) string, first int64) *writer {
	w := &writer{db: db, shardOf: shardOf, done: make(chan struct{}), acked: map[string][]int64{}, sent: map[string][]time.Time{}, at: map[string][]time.Time{}}
	w.stopped.Add(1)
	go func() {
		defer w.stopped.Done()
		for id := first; ; id++ {
			select {
			case <-w.done:
				return
			default:
			}
			sent := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_, err := w.db.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, 'x')", id)
			cancel()
			w.mu.Lock()
			if err == nil {
				s := w.shardOf(id)
				w.acked[s] = append(w.acked[s], id)
				w.sent[s] = append(w.sent[s], sent)
				w.at[s] = append(w.at[s], time.Now())
			} else {
				w.err = fmt.Errorf("id %d: %w", id, err)
			}
			w.mu.Unlock()
			if err != nil {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()
	return w
}

func (w *writer) stop() {
	w.once.Do(func() { close(w.done) })
	w.stopped.Wait()
}

func (w *writer) lastErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *writer) ackedIn(shard string) []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.acked[shard])
}

func (w *writer) ackedAll() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int64
	for _, ids := range w.acked {
		out = append(out, ids...)
	}
	return out
}

// waitWrite returns when the first write to shard sent after since was
// acknowledged, zero if none within d.
func (w *writer) waitWrite(shard string, since time.Time, d time.Duration) time.Time {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for i, sent := range w.sent[shard] {
			if sent.After(since) {
				at := w.at[shard][i]
				w.mu.Unlock()
				return at
			}
		}
		w.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}
}

func primaryTablet(t *testing.T, ctx context.Context, store *topo.Store, keyspace, shard string) *topo.Tablet {
	t.Helper()
	sh, err := store.GetShard(ctx, keyspace, shard)
	if err != nil || sh.PrimaryAlias == nil {
		t.Fatalf("shard %s/%s: got %+v, %v, want one naming a primary", keyspace, shard, sh, err)
	}
	tb, err := store.GetTablet(ctx, *sh.PrimaryAlias)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// ids reads the ids of service.t on an instance directly.
func ids(t *testing.T, addr string) []int64 {
	t.Helper()
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", addr))
	rows, err := db.Query("SELECT id FROM t")
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// queryOne runs a query on an instance directly and returns the first
// row's value in column col (the first column if col is empty).
func queryOne(t *testing.T, addr, query string, col ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := tablet.Dial(ctx, tablet.ConnConfig{Addr: addr, User: tablet.RootUser})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Execute(ctx, query)
	if err != nil {
		t.Fatalf("%s on %s: %v", query, addr, err)
	}
	if len(r.Rows) == 0 {
		t.Fatalf("%s on %s: got no rows", query, addr)
	}
	for i, f := range r.Fields {
		if len(col) == 0 || string(f.Name) == col[0] {
			return string(r.Rows[0][i])
		}
	}
	t.Fatalf("%s on %s: no column %v", query, addr, col)
	return ""
}

// errantTransactions returns the GTID position of the transactions an
// instance wrote itself beyond promoted (the position its replacement had
// when promoted), "" if none.
func errantTransactions(t *testing.T, addr string, alias topo.TabletAlias, promoted string) string {
	t.Helper()
	have, err := failover.ParsePosition(queryOne(t, addr, "SELECT @@global.gtid_binlog_pos"))
	if err != nil {
		t.Fatal(err)
	}
	had, err := failover.ParsePosition(promoted)
	if err != nil {
		t.Fatal(err)
	}
	if had.Covers(have) {
		return ""
	}
	return fmt.Sprintf("%s on %s beyond %s", have, alias, had)
}

func recoveriesString(recs []*failover.Recovery) string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("{%s/%s %s→%s after %s: %s}", r.Keyspace, r.Shard, r.OldPrimary, r.NewPrimary, r.Time.Sub(r.FailedAt).Round(time.Millisecond), r.Reason))
	}
	return fmt.Sprint(out)
}

// runController runs a failover controller on store until the returned
// stop is called (stop waits for it to end; calling it again is harmless).
func runController(t *testing.T, ctx context.Context, store *topo.Store) (stop func()) {
	t.Helper()
	return runControllerWith(t, ctx, store, func(*failover.Config) {})
}
