package gateway_test

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/vindex"
)

// bufferShard is the shard of the shared cluster the buffer tests take
// the primary of; buf_t's ids are placed on it or elsewhere by hashing.
const bufferShard = "-40"

// bufferGateway starts a second gateway on the shared cluster with a
// small buffer, and creates table buf_t (through it, so both gateways'
// vschemas know it).
func bufferGateway(t *testing.T, window time.Duration, max int) (*gateway.Server, *gatewaytest.Env) {
	t.Helper()
	env := shared.Get(t)
	srv, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: env.Cluster.Store, BufferWindow: window, BufferMaxStatements: max})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", srv.Addr()))
	mustExec(t, db, "CREATE TABLE IF NOT EXISTS buf_t (id BIGINT PRIMARY KEY, v VARCHAR(16))")
	mustExec(t, db, "DELETE FROM buf_t")
	return srv, env
}

// idsOn returns n ids that the hash vindex places on shard (in) or off it.
func idsOn(t *testing.T, shard string, on bool, n int, from int64) []int64 {
	t.Helper()
	vx, err := vindex.New("hash", "hash", nil)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := vindex.ParseKeyRange(shard)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for id := from; len(out) < n; id++ {
		ksid, err := vx.(vindex.Functional).Map(id)
		if err != nil {
			t.Fatal(err)
		}
		if kr.Contains(ksid) == on {
			out = append(out, id)
		}
	}
	return out
}

// dropPrimary makes the topology name no primary for the shard, and
// returns the function that names it again.
func dropPrimary(t *testing.T, store *topo.Store, keyspace, shard string) (restore func()) {
	t.Helper()
	sh, err := store.GetShard(t.Context(), keyspace, shard)
	if err != nil || sh.PrimaryAlias == nil {
		t.Fatalf("shard %s/%s: got %+v, %v", keyspace, shard, sh, err)
	}
	alias := *sh.PrimaryAlias
	set := func(a *topo.TabletAlias) {
		err := store.UpdateShard(context.Background(), keyspace, shard, func(s *topo.Shard) error {
			s.PrimaryAlias = a
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	set(nil)
	var once sync.Once
	restore = func() { once.Do(func() { set(&alias) }) }
	t.Cleanup(restore)
	// The gateways follow by watch (debounced 50 ms).
	time.Sleep(300 * time.Millisecond)
	return restore
}

// TestBufferBounds: with the primary of a shard gone from the topology,
// statements for it are held; past the bound they are refused at once,
// past the window they fail, both with the retryable 1105 saying the
// shard has no serving primary — never a hang. Other shards keep
// serving meanwhile; a held statement runs once a primary is named
// again (its row checked on the shard); KILL QUERY ends a held
// statement; and 5000 attempts leave the gateway's heap bounded.
func TestBufferBounds(t *testing.T) {
	// A window long enough that 30 goroutines reach the buffer within it
	// on a loaded machine (with 1 s, some timed out before the last
	// arrived: Held never reached the bound at load 30+).
	const window, bound = 3 * time.Second, 20
	srv, env := bufferGateway(t, window, bound)
	dsn := fmt.Sprintf("root@tcp(%s)/service", srv.Addr())
	db := gatewaytest.Open(t, dsn)
	db.SetMaxOpenConns(100)
	db.SetMaxIdleConns(100)
	held := idsOn(t, bufferShard, true, 5000, 1)
	other := idsOn(t, bufferShard, false, 20, 1)
	// 100 client connections open beforehand, so the timings below are
	// the buffer's, not the handshakes', and the heap measured later
	// already holds their sessions.
	warm(t, db, 100)
	restore := dropPrimary(t, env.Cluster.Store, "service", bufferShard)

	// 30 statements at once: 20 held (then timed out), 10 refused.
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 30)
	took := make([]time.Duration, 30)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := time.Now()
			_, errs[i] = db.Exec("INSERT INTO buf_t (id, v) VALUES (?, 'held')", held[i])
			took[i] = time.Since(s)
		}()
	}
	// Meanwhile, other shards serve.
	waitHeld(t, srv, bound, window/2)
	for _, id := range other[:5] {
		s := time.Now()
		if _, err := db.Exec("INSERT INTO buf_t (id, v) VALUES (?, 'other')", id); err != nil {
			t.Errorf("insert of id %d on another shard while %s is held: got %v, want success", id, bufferShard, err)
		}
		if d := time.Since(s); d > window/3 {
			t.Errorf("insert of id %d on another shard took %s while %s is held, want no wait", id, d, bufferShard)
		}
	}
	if st := srv.BufferStats(); st.Held > bound {
		t.Errorf("statements held while 30 wait for %s: got %d, want at most %d (the bound)", bufferShard, st.Held, bound)
	}
	wg.Wait()
	if d := time.Since(start); d > window+2*time.Second {
		t.Errorf("30 statements for a shard with no primary took %s, want about the window %s", d, window)
	}
	var full, timedOut int
	for i, err := range errs {
		switch {
		case err == nil:
			t.Errorf("statement %d for a shard with no primary: succeeded, want an error", i)
		case errNumber(err) != 1105 || !strings.Contains(err.Error(), "shard service/"+bufferShard+" has no serving primary"):
			t.Errorf("statement %d: got %v, want 1105 saying service/%s has no serving primary", i, err, bufferShard)
		case strings.Contains(err.Error(), "buffer full"):
			full++
			if took[i] > window/2 {
				t.Errorf("statement %d refused as over the bound after %s, want at once (well before the window %s)", i, took[i], window)
			}
		case strings.Contains(err.Error(), "buffering timed out after "+window.String()):
			timedOut++
			if took[i] < window-50*time.Millisecond {
				t.Errorf("statement %d timed out after %s, want the window %s", i, took[i], window)
			}
		default:
			t.Errorf("statement %d: got %v, want buffer full or timed out", i, err)
		}
	}
	if full != 10 || timedOut != 20 {
		t.Errorf("got %d refused as over the bound and %d timed out, want 10 and 20", full, timedOut)
	}
	t.Logf("example errors: %v", errs[0])

	// KILL QUERY ends a held statement as it ends a running one.
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var connID int64
	if err := conn.QueryRowContext(t.Context(), "SELECT CONNECTION_ID()").Scan(&connID); err != nil {
		t.Fatal(err)
	}
	killed := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(context.Background(), "INSERT INTO buf_t (id, v) VALUES (?, 'killed')", held[100])
		killed <- err
	}()
	waitHeld(t, srv, 1, window/2)
	mustExec(t, db, fmt.Sprintf("KILL QUERY %d", connID))
	select {
	case err := <-killed:
		if errNumber(err) != 1317 {
			t.Errorf("held statement after KILL QUERY: got %v, want 1317", err)
		}
	case <-time.After(window / 2):
		t.Errorf("held statement still waiting after KILL QUERY")
	}
	conn.Close()

	// Within the bounds, a held statement runs on the primary named again.
	done := make(chan error, 1)
	go func() {
		_, err := db.Exec("INSERT INTO buf_t (id, v) VALUES (?, 'released')", held[200])
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	restore()
	if err := <-done; err != nil {
		t.Fatalf("held insert after the primary was named again: got %v, want success", err)
	}
	got := queryStrings(t, env.ShardDB(t, "service", bufferShard, ""), "SELECT v FROM buf_t WHERE id = ?", held[200])
	if len(got) != 1 || got[0][0] != "released" {
		t.Errorf("row of the released insert on shard %s directly: got %v, want [[released]]", bufferShard, got)
	}
	if st := srv.BufferStats(); st.Released < 1 || st.Timeouts != 20 || st.Overflows != 10 || st.Held != 0 {
		t.Errorf("buffer stats: got %+v, want released >= 1, 20 timeouts, 10 overflows, none held", st)
	}

	// Memory: 5000 attempts against a shard with no primary, 100 at a
	// time, leave the heap about where it was.
	restore2 := dropPrimary(t, env.Cluster.Store, "service", bufferShard)
	defer restore2()
	attempt := func(ids []int64) {
		sem := make(chan struct{}, 100)
		for _, id := range ids {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_, _ = db.ExecContext(ctx, "INSERT INTO buf_t (id, v) VALUES (?, 'x')", id)
			}()
		}
		wg.Wait()
	}
	attempt(held[:200]) // the client side's 100 connections in use, as below
	before := heapInUse()
	attempt(held)
	after := heapInUse()
	t.Logf("heap in use before 5000 held/refused attempts: %d KiB, after: %d KiB", before>>10, after>>10)
	if after > before+16<<20 {
		t.Errorf("heap grew from %d to %d KiB over 5000 attempts, want bounded (< 16 MiB more)", before>>10, after>>10)
	}
	if st := srv.BufferStats(); st.Held != 0 {
		t.Errorf("statements held after all attempts ended: got %d, want 0", st.Held)
	}
}

// waitHeld waits until the buffer holds n statements, at most within.
func waitHeld(t *testing.T, srv *gateway.Server, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for srv.BufferStats().Held < n {
		if time.Now().After(deadline) {
			t.Errorf("statements held after %s: got %d, want %d", within, srv.BufferStats().Held, n)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// warm opens n connections of db and leaves them idle in its pool.
func warm(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	var conns []*sql.Conn
	for range n {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestBufferTransactionPrimaryChanged: a transaction that had begun on a
// shard whose primary then changes is rolled back with 1402 saying so,
// keeps answering so until ROLLBACK, and the session then works again.
func TestBufferTransactionPrimaryChanged(t *testing.T) {
	srv, env := bufferGateway(t, 2*time.Second, 100)
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", srv.Addr()))
	ids := idsOn(t, bufferShard, true, 3, 1)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := t.Context()
	connExec(t, conn, "BEGIN")
	mustConnExec(t, conn, "INSERT INTO buf_t (id, v) VALUES (?, 'tx')", ids[0])
	restore := dropPrimary(t, env.Cluster.Store, "service", bufferShard)
	restore()
	time.Sleep(300 * time.Millisecond)
	for _, q := range []string{"INSERT INTO buf_t (id, v) VALUES (?, 'tx2')", "COMMIT"} {
		args := []any{ids[1]}
		if q == "COMMIT" {
			args = nil
		}
		_, err := conn.ExecContext(ctx, q, args...)
		if errNumber(err) != 1402 || !strings.Contains(err.Error(), "primary changed") {
			t.Errorf("%s in a transaction whose shard's primary changed: got %v, want 1402 saying the primary changed", q, err)
		}
	}
	connExec(t, conn, "ROLLBACK")
	mustConnExec(t, conn, "INSERT INTO buf_t (id, v) VALUES (?, 'after')", ids[2])
	got := queryStrings(t, env.ShardDB(t, "service", bufferShard, ""), "SELECT id, v FROM buf_t WHERE id IN (?, ?, ?) ORDER BY id", ids[0], ids[1], ids[2])
	if len(got) != 1 || got[0][1] != "after" {
		t.Errorf("rows on shard %s directly: got %v, want only the one written after ROLLBACK", bufferShard, got)
	}
}

// TestBufferHold: a hold placed in etcd makes the gateways buffer the
// shard's statements and acknowledge; other shards serve meanwhile;
// released, the held statements run on the (same) primary.
func TestBufferHold(t *testing.T) {
	srv, env := bufferGateway(t, 5*time.Second, 100)
	store := env.Cluster.Store
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", srv.Addr()))
	on := idsOn(t, bufferShard, true, 1, 1)
	off := idsOn(t, bufferShard, false, 1, 1)
	ctx := t.Context()
	h := &topo.Hold{ID: "test-hold", Keyspace: "service", Shards: []string{bufferShard}, Reason: "test",
		Deadline: time.Now().Add(4 * time.Second), Drain: 500 * time.Millisecond}
	if err := store.PlaceHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	defer store.ReleaseHold(context.Background(), h.ID)
	acked, err := store.AwaitAcks(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	gws, err := store.ListGateways(ctx)
	if err != nil || len(acked) != len(gws) || len(gws) < 2 {
		t.Fatalf("acknowledgements: got %v of gateways %v (%v), want all (both gateways)", acked, gws, err)
	}
	done := make(chan error, 1)
	sent := time.Now()
	go func() {
		_, err := db.Exec("INSERT INTO buf_t (id, v) VALUES (?, 'held')", on[0])
		done <- err
	}()
	if _, err := db.Exec("INSERT INTO buf_t (id, v) VALUES (?, 'other')", off[0]); err != nil {
		t.Errorf("insert on another shard under the hold: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("insert for a held shard answered %v before the hold was released", err)
	default:
	}
	if err := store.ReleaseHold(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("held insert after release: %v", err)
	}
	t.Logf("insert held %s by the hold", time.Since(sent).Round(time.Millisecond))
	got := queryStrings(t, env.ShardDB(t, "service", bufferShard, ""), "SELECT v FROM buf_t WHERE id = ?", on[0])
	if len(got) != 1 || got[0][0] != "held" {
		t.Errorf("held row on shard %s directly: got %v, want [[held]]", bufferShard, got)
	}
}

func mustConnExec(t *testing.T, conn *sql.Conn, query string, args ...any) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s %v: %v", query, args, err)
	}
}
