package gateway_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
)

// The statement lifecycle (gateway/statement.go): a deadline, a client that
// disconnects and KILL QUERY each stop a scatter query on every shard, which
// the shards' processlists show.

// lifecycleTable has rows on every shard of service; a scatter query that
// sleeps per row runs on all four at once.
const lifecycleTable = "lifecycle_rows"

// slowScatter sleeps 30 s per row on every shard; sleepMarker finds it in
// a processlist.
const (
	slowScatter = "SELECT id, SLEEP(30) AS lifecycle_sleep FROM " + lifecycleTable
	sleepMarker = "lifecycle_sleep"
)

func setupLifecycleTable(t *testing.T, db *sql.DB) {
	t.Helper()
	mustExec(t, db, "CREATE TABLE IF NOT EXISTS "+lifecycleTable+" (id BIGINT PRIMARY KEY, v INT)")
	mustExec(t, db, "DELETE FROM "+lifecycleTable)
	var vals []string
	for i := 1; i <= 16; i++ {
		vals = append(vals, fmt.Sprintf("(%d, %d)", i, i))
	}
	mustExec(t, db, "INSERT INTO "+lifecycleTable+" (id, v) VALUES "+strings.Join(vals, ", "))
	for _, shard := range serviceShards {
		if n := queryStrings(t, shared.shardDB(t, "service", shard), "SELECT COUNT(*) FROM "+lifecycleTable)[0][0]; n == "0" {
			t.Fatalf("shard %s has no rows of %s; the test needs rows on every shard", shard, lifecycleTable)
		}
	}
}

// sleepersOn counts the statements running slowScatter on a shard's primary.
func sleepersOn(t *testing.T, shard string) int {
	t.Helper()
	rows := queryStrings(t, shared.shardDB(t, "service", shard),
		"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND ID <> CONNECTION_ID() AND INFO LIKE '%"+sleepMarker+"%'")
	var n int
	fmt.Sscan(rows[0][0], &n)
	return n
}

// waitSleepers waits until every shard runs (running) or none runs (!running)
// the slow scatter, failing after 10 s.
func waitSleepers(t *testing.T, running bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		done := true
		counts := make([]int, len(serviceShards))
		for i, shard := range serviceShards {
			counts[i] = sleepersOn(t, shard)
			if (counts[i] > 0) != running {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("shard processlists %v (shards %v) after 10 s: want the slow query running=%v on every shard", counts, serviceShards, running)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recordingHooks keeps the errors of finished statements.
type recordingHooks struct {
	mu       sync.Mutex
	finished map[string]error
}

func (h *recordingHooks) StatementStarted(gateway.StatementInfo) {}

func (h *recordingHooks) StatementFinished(info gateway.StatementInfo, took time.Duration, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.finished[info.SQL] = err
}

func (h *recordingHooks) result(sql string) (error, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	err, ok := h.finished[sql]
	return err, ok
}

func TestQueryTimeoutStopsScatterOnEveryShard(t *testing.T) {
	hooks := &recordingHooks{finished: map[string]error{}}
	gw, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: shared.Get(t).Cluster.Store, QueryTimeout: 1500 * time.Millisecond, Hooks: hooks})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	db := openGateway(t, gw.Addr())
	setupLifecycleTable(t, db)

	start := time.Now()
	_, err = db.Exec(slowScatter)
	if got := errNumber(err); got != 1969 {
		t.Fatalf("%s under --query-timeout 1.5s: got %v (number %d), want error 1969 (max_statement_time exceeded)", slowScatter, err, got)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the statement answered after %s, want about 1.5 s", took)
	}
	waitSleepers(t, false)
	if err, ok := hooks.result(slowScatter); !ok || !strings.Contains(fmt.Sprint(err), "1969") {
		t.Errorf("hooks saw %v (finished %v), want the statement finished with error 1969", err, ok)
	}

	// A session's own max_statement_time lowers the gateway's limit.
	conn := oneConn(t, db)
	if _, err := conn.ExecContext(context.Background(), "SET max_statement_time = 0.3"); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, err = conn.ExecContext(context.Background(), slowScatter)
	if got := errNumber(err); got != 1969 {
		t.Fatalf("with max_statement_time 0.3: got %v, want error 1969", err)
	}
	if took := time.Since(start); took > 1400*time.Millisecond {
		t.Errorf("with max_statement_time 0.3 the statement answered after %s, want well before the gateway's 1.5 s", took)
	}
	waitSleepers(t, false)
	// The session goes on.
	if got := connString(t, conn, "SELECT COUNT(*) FROM "+lifecycleTable); got != "16" {
		t.Errorf("after the timeout: count %v, want 16", got)
	}
}

func TestMaxExecutionTimeMilliseconds(t *testing.T) {
	db := shared.db(t, "service", "")
	setupLifecycleTable(t, db)
	conn := oneConn(t, db)
	connExec(t, conn, "SET max_execution_time = 400")
	_, err := conn.ExecContext(context.Background(), slowScatter)
	if got := errNumber(err); got != 1969 {
		t.Fatalf("with max_execution_time 400: got %v, want error 1969", err)
	}
	waitSleepers(t, false)
	connExec(t, conn, "SET max_execution_time = DEFAULT")
	if got := connString(t, conn, "SELECT id FROM "+lifecycleTable+" WHERE id = 3"); got != "3" {
		t.Errorf("after DEFAULT: %v, want the row", got)
	}
	if _, err := conn.ExecContext(context.Background(), "SET max_execution_time = 'soon'"); errNumber(err) != 1232 {
		t.Errorf("SET max_execution_time = 'soon': %v, want error 1232", err)
	}
}

func TestClientDisconnectStopsScatterOnEveryShard(t *testing.T) {
	db := shared.db(t, "service", "")
	setupLifecycleTable(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, slowScatter)
		done <- err
	}()
	waitSleepers(t, true)
	cancel() // go-sql-driver closes the connection
	if err := <-done; err == nil {
		t.Fatal("the cancelled query succeeded")
	}
	waitSleepers(t, false)
}

func TestKillQueryStopsScatterOnEveryShard(t *testing.T) {
	db := shared.db(t, "service", "")
	setupLifecycleTable(t, db)
	victim := oneConn(t, db)
	id := connString(t, victim, "SELECT CONNECTION_ID()")
	connExec(t, victim, "BEGIN")
	connExec(t, victim, "INSERT INTO "+lifecycleTable+" (id, v) VALUES (1001, 1)")
	done := startSlowScatter(t, victim)

	killer := shared.db(t, "service", "")
	mustExec(t, killer, "KILL QUERY "+id)
	select {
	case err := <-done:
		if got := errNumber(err); got != 1317 {
			t.Fatalf("killed statement: got %v, want error 1317 (query execution was interrupted)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the killed statement did not answer within 10 s")
	}
	waitSleepers(t, false)

	// Its transaction lost a shard connection: it answers so until ended.
	if _, err := victim.ExecContext(context.Background(), "INSERT INTO "+lifecycleTable+" (id, v) VALUES (1002, 1)"); errNumber(err) != 1402 {
		t.Errorf("a statement after the interrupted one in its transaction: got %v, want error 1402 (rolled back)", err)
	}
	if _, err := victim.ExecContext(context.Background(), "COMMIT"); errNumber(err) != 1402 {
		t.Errorf("COMMIT of the interrupted transaction: got %v, want error 1402", err)
	}
	if got := queryStrings(t, db, "SELECT COUNT(*) FROM "+lifecycleTable+" WHERE id IN (1001, 1002)"); got[0][0] != "0" {
		t.Errorf("rows of the rolled-back transaction: %v, want none", got)
	}
	// The connection itself goes on.
	if got := connString(t, victim, "SELECT COUNT(*) FROM "+lifecycleTable); got != "16" {
		t.Errorf("after KILL QUERY: count %v, want 16", got)
	}

	if _, err := killer.Exec("KILL QUERY 4000000000"); errNumber(err) != 1094 {
		t.Errorf("KILL QUERY of an unknown id: %v, want error 1094", err)
	}
}

func TestKillConnection(t *testing.T) {
	db := shared.db(t, "service", "")
	setupLifecycleTable(t, db)
	victim := oneConn(t, db)
	id := connString(t, victim, "SELECT CONNECTION_ID()")
	done := startSlowScatter(t, victim)
	mustExec(t, shared.db(t, "service", ""), "KILL CONNECTION "+id)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the statement of a killed connection succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the killed connection's statement did not end within 10 s")
	}
	waitSleepers(t, false)
	if err := victim.PingContext(context.Background()); err == nil {
		t.Error("the killed connection still answers")
	}
}

// connString runs a one-value query on one connection.
func connString(t *testing.T, conn *sql.Conn, query string) string {
	t.Helper()
	var v string
	if err := conn.QueryRowContext(context.Background(), query).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

func connExec(t *testing.T, conn *sql.Conn, query string) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// oneConn is one connection of db, closed when the test ends.
func oneConn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// startSlowScatter runs slowScatter on conn and returns once every shard
// runs it; its error arrives on the channel.
func startSlowScatter(t *testing.T, conn *sql.Conn) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(context.Background(), slowScatter)
		done <- err
	}()
	waitSleepers(t, true)
	return done
}
