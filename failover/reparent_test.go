package failover_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
)

// TestReparent runs on one cluster (service, shards -80 and 80-, one
// replica each, a gateway, a controller), in order:
//   - requests with bad arguments are refused with clear errors;
//   - a planned reparent while a live gateway never acknowledges the hold
//     aborts at its deadline, and writes go on on the old primary;
//   - a planned reparent under steady writes (single-shard inserts and
//     2PC transactions across both shards) loses nothing, shows clients
//     no error, and leaves the old primary a read-only replica of the new
//     one; its longest write stall is printed;
//   - an emergency reparent of a SIGKILLed primary promotes the replica
//     asked for.
//
// Every acknowledged write is checked on the shards' primaries directly.
func TestReparent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env, _, _ := startCluster(t, ctx)
	store := env.Cluster.Store
	// Detection slow enough that the emergency reparent, not the
	// automatic failover, handles the killed primary.
	stopCtrl := runControllerWith(t, ctx, store, func(c *failover.Config) {
		c.DetectAfter = time.Minute
		c.HoldAckTimeout = 2 * time.Second
	})
	defer stopCtrl()

	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=15s&writeTimeout=15s", env.Gateway.Addr()))
	db.SetMaxOpenConns(8)
	gatewaytest.MustExec(t, db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
	shardOf := shardMapper(t)

	t.Run("refused requests", func(t *testing.T) {
		primary := primaryTablet(t, ctx, store, "service", "-80")
		for _, c := range []struct {
			r    failover.Reparent
			want string
		}{
			{failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "service", Shard: "-40"}, "unknown shard service/-40"},
			{failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "nope", Shard: "-80"}, "unknown shard nope/-80"},
			{failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "service", Shard: "-80", NewPrimary: "zone1-999"}, "unknown tablet"},
			{failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "service", Shard: "-80", NewPrimary: primary.Alias.String()}, "is not a replica of service/-80"},
			{failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "service", Shard: "-80", NewPrimary: replicaOf(t, ctx, store, "80-").Alias.String()}, "is not in shard service/-80"},
			{failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "service", Shard: "-80", IgnoreReplicas: []string{replicaOf(t, ctx, store, "-80").Alias.String()}}, "for an emergency reparent only"},
			{failover.Reparent{Kind: failover.EmergencyReparent, Keyspace: "service", Shard: "-80", IgnoreReplicas: []string{"zone1-999"}}, "--ignore-replicas: unknown tablet"},
			{failover.Reparent{Kind: failover.EmergencyReparent, Keyspace: "service", Shard: "-80", IgnoreReplicas: []string{primary.Alias.String()}}, "is not a replica of service/-80"},
		} {
			err := failover.RequestReparent(ctx, store, &c.r)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("RequestReparent(%+v): got %v, want an error saying %q", c.r, err, c.want)
			}
		}
	})

	t.Run("planned aborts when a gateway never acknowledges", func(t *testing.T) {
		// A presence key with no gateway behind it: a gateway whose hold
		// watch is deaf.
		leave, err := store.RegisterGateway(ctx, "deaf-gateway")
		if err != nil {
			t.Fatal(err)
		}
		defer leave(context.Background())
		before := primaryTablet(t, ctx, store, "service", "-80")
		load := startLoad(db, shardOf, 1)
		r := &failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "service", Shard: "-80"}
		if err := failover.RequestReparent(ctx, store, r); err != nil {
			t.Fatal(err)
		}
		// One at a time per shard.
		again := &failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "service", Shard: "-80"}
		if err := failover.RequestReparent(ctx, store, again); !errors.Is(err, failover.ErrReparentRunning) {
			t.Errorf("a second reparent of service/-80 while one is pending: got %v, want ErrReparentRunning", err)
		}
		done, err := failover.WaitReparent(ctx, store, "service", "-80", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.State != failover.ReparentFailed || !strings.Contains(done.Error, "deaf-gateway") {
			t.Fatalf("reparent with a deaf gateway: got state %s, error %q, want failed naming deaf-gateway", done.State, done.Error)
		}
		t.Logf("reparent with a deaf gateway: %s", done.Error)
		time.Sleep(500 * time.Millisecond)
		load.stop()
		if after := primaryTablet(t, ctx, store, "service", "-80"); after.Alias != before.Alias {
			t.Errorf("primary after an aborted reparent: got %s, want %s still", after.Alias, before.Alias)
		}
		if got := queryOne(t, before.Addr(), "SELECT @@global.read_only"); got != "0" {
			t.Errorf("old primary after an aborted reparent: read_only %s, want 0", got)
		}
		load.check(t, ctx, store)
		if n := load.ackedAfter("-80", done.Finished); n == 0 {
			t.Errorf("no write to service/-80 acknowledged after the aborted reparent")
		}
	})

	t.Run("planned under load", func(t *testing.T) {
		old := primaryTablet(t, ctx, store, "service", "-80")
		load := startLoad(db, shardOf, 1_000_000)
		time.Sleep(time.Second)
		r := &failover.Reparent{Kind: failover.PlannedReparent, Keyspace: "service", Shard: "-80"}
		if err := failover.RequestReparent(ctx, store, r); err != nil {
			t.Fatal(err)
		}
		done, err := failover.WaitReparent(ctx, store, "service", "-80", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.State != failover.ReparentDone {
			t.Fatalf("planned reparent: got state %s, error %q, want done", done.State, done.Error)
		}
		time.Sleep(time.Second)
		load.stop()
		newPrimary := primaryTablet(t, ctx, store, "service", "-80")
		if newPrimary.Alias == old.Alias || done.Promoted != newPrimary.Alias.String() || done.OldPrimary != old.Alias.String() {
			t.Fatalf("after the planned reparent: primary %s, outcome %+v, want a new primary instead of %s", newPrimary.Alias, done, old.Alias)
		}
		load.check(t, ctx, store)
		stall, at := load.longestStall("-80")
		t.Logf("planned reparent of service/-80 %s -> %s: hold %s; longest write stall seen by a client %s (at %s); %d writes and %d 2PC transactions acknowledged, none lost, no client error",
			old.Alias, newPrimary.Alias, done.Stall.Round(time.Millisecond), stall.Round(time.Millisecond), at.Format("15:04:05.000"), load.singles(), load.txs())

		// The old primary: a read-only replica of the new one, typed replica.
		if got := queryOne(t, old.Addr(), "SELECT @@global.read_only"); got != "1" {
			t.Errorf("old primary: read_only %s, want 1", got)
		}
		if got := queryOne(t, old.Addr(), "SHOW SLAVE STATUS", "Master_Port"); got != strconv.Itoa(newPrimary.Port) {
			t.Errorf("old primary replicates from port %s, want %d (the new primary)", got, newPrimary.Port)
		}
		if tb, err := store.GetTablet(ctx, old.Alias); err != nil || tb.Type != topo.TabletReplica {
			t.Errorf("old primary's tablet: got %+v, %v, want type replica", tb, err)
		}
		recs, err := failover.ListRecoveries(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 || recs[len(recs)-1].Reason != "planned reparent" || recs[len(recs)-1].NewPrimary != newPrimary.Alias.String() {
			t.Errorf("recoveries: got %s, want the last a planned reparent to %s", recoveriesString(recs), newPrimary.Alias)
		}
	})

	t.Run("emergency of a killed primary", func(t *testing.T) {
		const victim = "80-"
		killed := env.Cluster.Primary("service", victim)
		replica := replicaOf(t, ctx, store, victim)
		load := startLoad(db, shardOf, 2_000_000)
		time.Sleep(500 * time.Millisecond)
		if err := killed.Mysqld.Kill(); err != nil {
			t.Fatal(err)
		}
		killedAt := time.Now()
		r := &failover.Reparent{Kind: failover.EmergencyReparent, Keyspace: "service", Shard: victim, NewPrimary: replica.Alias.String()}
		if err := failover.RequestReparent(ctx, store, r); err != nil {
			t.Fatal(err)
		}
		done, err := failover.WaitReparent(ctx, store, "service", victim, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.State != failover.ReparentDone || done.Promoted != replica.Alias.String() {
			t.Fatalf("emergency reparent: got %+v, want done promoting %s", done, replica.Alias)
		}
		t.Logf("emergency reparent of service/%s: kill to done %s", victim, done.Finished.Sub(killedAt).Round(time.Millisecond))
		deadline := time.Now().Add(15 * time.Second)
		for load.ackedAfter(victim, done.Finished) == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		load.stop()
		if load.ackedAfter(victim, done.Finished) == 0 {
			t.Errorf("no write to service/%s acknowledged after the emergency reparent", victim)
		}
		if p := primaryTablet(t, ctx, store, "service", victim); p.Alias != replica.Alias {
			t.Errorf("primary of service/%s: got %s, want %s", victim, p.Alias, replica.Alias)
		}
		if tb, err := store.GetTablet(ctx, killed.Alias); err != nil || tb.Type != topo.TabletDrained {
			t.Errorf("killed primary's tablet: got %+v, %v, want drained", tb, err)
		}
		// Writes in flight at the kill may fail (the client cannot know);
		// every acknowledged one is there — a 2PC transaction whose
		// commit decision was made once the resolver has finished it on
		// the promoted replica.
		deadline = time.Now().Add(20 * time.Second)
		for {
			lost, n := load.missing(t, ctx, store)
			if len(lost) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("acknowledged ids missing on the primaries 20s after the emergency reparent: %d of %d: %v", len(lost), n, lost[:min(len(lost), 10)])
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		recs, _ := failover.ListRecoveries(ctx, store)
		if len(recs) == 0 || recs[len(recs)-1].Reason != "emergency reparent" {
			t.Errorf("recoveries: got %s, want the last an emergency reparent", recoveriesString(recs))
		}
	})
}

// replicaOf returns a replica tablet of the shard.
func replicaOf(t *testing.T, ctx context.Context, store *topo.Store, shard string) *topo.Tablet {
	t.Helper()
	tablets, err := store.ListTablets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tablets {
		if tb.Keyspace == "service" && tb.Shard == shard && tb.Type == topo.TabletReplica {
			return tb
		}
	}
	t.Fatalf("no replica of service/%s", shard)
	return nil
}

// runControllerWith is runController with changes to its config.
func runControllerWith(t *testing.T, ctx context.Context, store *topo.Store, change func(*failover.Config)) (stop func()) {
	t.Helper()
	cfg := failover.Config{Store: store, Backend: tablet.ConnConfig{User: tablet.RootUser}, ID: "test", Logger: tablettest.Logger(t)}
	change(&cfg)
	ctrl, err := failover.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctrlCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ctrl.Run(ctrlCtx) }()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// load writes through the gateway: one client inserting single rows, one
// running 2PC transactions that insert a row on each shard. It records
// every acknowledged id, when each write was sent and answered, and every
// error a client saw.
type load struct {
	db      *sql.DB
	shardOf func(int64) string
	done    chan struct{}
	wg      sync.WaitGroup

	mu     sync.Mutex
	acked  []write
	errs   []error
	nTx    int
	nSolo  int
	nextID int64
}

type write struct {
	ids       []int64
	sent, at  time.Time
	shards    []string
	twoPhased bool
}

func startLoad(db *sql.DB, shardOf func(int64) string, firstID int64) *load {
	l := &load{db: db, shardOf: shardOf, done: make(chan struct{}), nextID: firstID}
	l.wg.Add(2)
	go l.run(l.single)
	go l.run(l.twoPC)
	return l
}

func (l *load) run(one func() (write, error)) {
	defer l.wg.Done()
	for {
		select {
		case <-l.done:
			return
		default:
		}
		w, err := one()
		l.mu.Lock()
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("ids %v sent %s: %w", w.ids, w.sent.Format("15:04:05.000"), err))
		} else {
			l.acked = append(l.acked, w)
			if w.twoPhased {
				l.nTx++
			} else {
				l.nSolo++
			}
		}
		l.mu.Unlock()
		if err != nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (l *load) ids(n int) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int64, n)
	for i := range out {
		out[i] = l.nextID
		l.nextID++
	}
	return out
}

func (l *load) single() (write, error) {
	ids := l.ids(1)
	w := write{ids: ids, sent: time.Now(), shards: []string{l.shardOf(ids[0])}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := l.db.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, 'single')", ids[0])
	w.at = time.Now()
	return w, err
}

// twoPC inserts one row on each shard in one transaction.
func (l *load) twoPC() (write, error) {
	var ids []int64
	seen := map[string]bool{}
	for len(ids) < 2 {
		id := l.ids(1)[0]
		if s := l.shardOf(id); !seen[s] {
			seen[s] = true
			ids = append(ids, id)
		}
	}
	w := write{ids: ids, sent: time.Now(), shards: []string{"-80", "80-"}, twoPhased: true}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := func() error {
		tx, err := l.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, '2pc')", id); err != nil {
				_ = tx.Rollback()
				return err
			}
		}
		return tx.Commit()
	}()
	w.at = time.Now()
	return w, err
}

func (l *load) stop() {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	l.wg.Wait()
}

func (l *load) singles() int { l.mu.Lock(); defer l.mu.Unlock(); return l.nSolo }
func (l *load) txs() int     { l.mu.Lock(); defer l.mu.Unlock(); return l.nTx }

// ackedAfter counts the acknowledged writes to shard sent after since.
func (l *load) ackedAfter(shard string, since time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, w := range l.acked {
		if w.sent.After(since) && slices.Contains(w.shards, shard) {
			n++
		}
	}
	return n
}

// longestStall is the longest time a write touching shard took, and when
// it was sent.
func (l *load) longestStall(shard string) (time.Duration, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var longest time.Duration
	var at time.Time
	for _, w := range l.acked {
		if d := w.at.Sub(w.sent); slices.Contains(w.shards, shard) && d > longest {
			longest, at = d, w.sent
		}
	}
	return longest, at
}

// check fails the test if a client saw an error or an acknowledged write
// is missing.
func (l *load) check(t *testing.T, ctx context.Context, store *topo.Store) {
	t.Helper()
	l.mu.Lock()
	errs := slices.Clone(l.errs)
	l.mu.Unlock()
	if len(errs) > 0 {
		t.Errorf("clients saw %d errors, want none (buffered, not failed); first: %v", len(errs), errs[0])
	}
	l.checkPresent(t, ctx, store)
}

// checkPresent fails the test if an acknowledged id is missing on the
// shards' primaries.
func (l *load) checkPresent(t *testing.T, ctx context.Context, store *topo.Store) {
	t.Helper()
	if lost, n := l.missing(t, ctx, store); len(lost) > 0 {
		t.Errorf("acknowledged ids missing on the primaries: %d of %d, e.g. %v", len(lost), n, lost[:min(len(lost), 10)])
	}
}

// missing returns the acknowledged ids missing on the shards' primaries
// (marked 2pc when from a transaction), and how many were acknowledged.
func (l *load) missing(t *testing.T, ctx context.Context, store *topo.Store) ([]string, int) {
	t.Helper()
	var have []int64
	for _, shard := range []string{"-80", "80-"} {
		have = append(have, ids(t, primaryTablet(t, ctx, store, "service", shard).Addr())...)
	}
	slices.Sort(have)
	l.mu.Lock()
	defer l.mu.Unlock()
	var lost []string
	n := 0
	for _, w := range l.acked {
		for _, id := range w.ids {
			n++
			if _, ok := slices.BinarySearch(have, id); !ok {
				what := fmt.Sprintf("%d (%s, single)", id, l.shardOf(id))
				if w.twoPhased {
					what = fmt.Sprintf("%d (%s, 2pc with %v)", id, l.shardOf(id), w.ids)
				}
				lost = append(lost, what)
			}
		}
	}
	return lost, n
}
