package gateway_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/gateway"
)

// pin holds one gateway session (database/sql would spread statements
// over several connections).
func pin(t testing.TB, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func cexec(t testing.TB, c *sql.Conn, query string, args ...any) {
	t.Helper()
	if _, err := c.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func cvalue(t testing.TB, c *sql.Conn, query string, args ...any) string {
	t.Helper()
	var v sql.NullString
	if err := c.QueryRowContext(context.Background(), query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v.String
}

// idsOnDistinctShards returns n ids owned by n different service shards.
func idsOnDistinctShards(t testing.TB, n int) []int64 {
	t.Helper()
	seen := map[string]bool{}
	var ids []int64
	for id := int64(1); len(ids) < n; id++ {
		if sh := shardOf(t, id); !seen[sh] {
			seen[sh] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// txTable creates a fresh table with one row (id, v=0) per id.
func txTable(t testing.TB, db *sql.DB, name string, ids []int64) {
	t.Helper()
	mustExec(t, db, "drop table if exists "+name)
	mustExec(t, db, "create table "+name+" (id bigint primary key, v int)")
	for _, id := range ids {
		mustExec(t, db, "insert into "+name+" (id, v) values (?, 0)", id)
	}
}

// TestIsolationSingleShardRepeatableRead: a transaction that stays on one
// shard keeps its snapshot while another session commits.
func TestIsolationSingleShardRepeatableRead(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 1)
	txTable(t, db, "iso_rr", ids)
	a := ids[0]
	tx := pin(t, db)
	cexec(t, tx, "begin")
	if got := cvalue(t, tx, "select v from iso_rr where id = ?", a); got != "0" {
		t.Fatalf("first read: got %s, want 0", got)
	}
	mustExec(t, db, "update iso_rr set v = 1 where id = ?", a)
	if got := cvalue(t, tx, "select v from iso_rr where id = ?", a); got != "0" {
		t.Errorf("repeated read in a single-shard transaction: got %s, want 0 (REPEATABLE READ)", got)
	}
	cexec(t, tx, "commit")
	if got := cvalue(t, tx, "select v from iso_rr where id = ?", a); got != "1" {
		t.Errorf("after commit: got %s, want 1", got)
	}
}

// TestIsolationAcrossShardsReadCommitted: a shard that joins a transaction
// after the first begins READ COMMITTED (sees commits made since), while
// the first participant keeps its REPEATABLE READ snapshot; a transaction
// whose first statement spans shards is READ COMMITTED everywhere.
func TestIsolationAcrossShardsReadCommitted(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 2)
	txTable(t, db, "iso_rc", ids)
	a, b := ids[0], ids[1]

	t.Run("growing", func(t *testing.T) {
		tx := pin(t, db)
		cexec(t, tx, "begin")
		cvalue(t, tx, "select v from iso_rc where id = ?", a) // first participant: RR
		cvalue(t, tx, "select v from iso_rc where id = ?", b) // joins: RC
		mustExec(t, db, "update iso_rc set v = v + 1 where id in (?, ?)", a, b)
		if got := cvalue(t, tx, "select v from iso_rc where id = ?", b); got != "1" {
			t.Errorf("joined shard: got %s, want 1 (READ COMMITTED sees the commit)", got)
		}
		if got := cvalue(t, tx, "select v from iso_rc where id = ?", a); got != "0" {
			t.Errorf("first participant: got %s, want 0 (keeps REPEATABLE READ)", got)
		}
		// The session variable reports the session's level, as in MySQL
		// (docs/NOTES.md): not what the joined shards run with.
		if got := cvalue(t, tx, "select @@tx_isolation"); got != "REPEATABLE-READ" {
			t.Errorf("@@tx_isolation: got %s, want REPEATABLE-READ", got)
		}
		cexec(t, tx, "commit")
	})
	t.Run("first statement spans", func(t *testing.T) {
		tx := pin(t, db)
		cexec(t, tx, "begin")
		if got := cvalue(t, tx, "select sum(v) from iso_rc where id in (?, ?)", a, b); got != "2" {
			t.Fatalf("sum: got %s, want 2", got)
		}
		mustExec(t, db, "update iso_rc set v = v + 1 where id in (?, ?)", a, b)
		for _, id := range []int64{a, b} {
			if got := cvalue(t, tx, "select v from iso_rc where id = ?", id); got != "2" {
				t.Errorf("id %d: got %s, want 2 (READ COMMITTED on every shard)", id, got)
			}
		}
		cexec(t, tx, "commit")
	})
}

func TestTransactionModeSingle(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 2)
	txTable(t, db, "mode_single", ids)
	a, b := ids[0], ids[1]
	c := pin(t, db)
	cexec(t, c, "set transaction_mode = 'single'")
	cexec(t, c, "begin")
	cexec(t, c, "update mode_single set v = 5 where id = ?", a)
	_, err := c.ExecContext(context.Background(), "update mode_single set v = 5 where id = ?", b)
	wantMySQLError(t, err, 1235, "second shard in single mode")
	if !strings.Contains(err.Error(), "transaction_mode is 'single'") {
		t.Errorf("error does not explain itself: %v", err)
	}
	// A streaming merge across shards (ORDER BY without LIMIT) is refused
	// the same way, before it reads anything.
	rows, err := c.QueryContext(context.Background(), "select id from mode_single order by id")
	if err == nil {
		rows.Close()
	}
	wantMySQLError(t, err, 1235, "merge-sorted scatter in single mode")
	// The mode can't change under a transaction that has begun; setting
	// the same one is harmless.
	cexec(t, c, "set transaction_mode = 'single'")
	_, err = c.ExecContext(context.Background(), "set transaction_mode = 'twopc'")
	wantMySQLError(t, err, 1568, "changing transaction_mode inside a transaction")
	// The transaction goes on.
	if got := cvalue(t, c, "select v from mode_single where id = ?", a); got != "5" {
		t.Errorf("after the refusal: got %s, want 5", got)
	}
	cexec(t, c, "commit")
	got := queryStrings(t, db, "select id, v from mode_single order by id")
	want := fmt.Sprint([][]string{{fmt.Sprint(min(a, b)), map[bool]string{true: "5", false: "0"}[min(a, b) == a]}, {fmt.Sprint(max(a, b)), map[bool]string{true: "5", false: "0"}[max(a, b) == a]}})
	if fmt.Sprint(got) != want {
		t.Errorf("rows: got %v, want %v", got, want)
	}
	// An autocommit write to two shards is refused too; one shard is fine.
	_, err = c.ExecContext(context.Background(), "update mode_single set v = 7 where id in (?, ?)", a, b)
	wantMySQLError(t, err, 1235, "autocommit multi-shard update in single mode")
	cexec(t, c, "update mode_single set v = 7 where id = ?", b)
	_, err = c.ExecContext(context.Background(), "set transaction_mode = 'bogus'")
	wantMySQLError(t, err, 1231, "bad transaction_mode")
}

// TestSavepointsAcrossShards: ROLLBACK TO undoes work on the shards that
// were in the transaction at the savepoint and rolls back entirely a
// shard that joined after it.
func TestSavepointsAcrossShards(t *testing.T) {
	for _, mode := range []string{"twopc", "multi"} {
		t.Run(mode, func(t *testing.T) {
			db := shared.db(t, "service", "")
			ids := idsOnDistinctShards(t, 3)
			table := "sp_" + mode
			txTable(t, db, table, ids)
			a, b, c3 := ids[0], ids[1], ids[2]
			c := pin(t, db)
			cexec(t, c, "set transaction_mode = '"+mode+"'")
			cexec(t, c, "begin")
			cexec(t, c, "update "+table+" set v = 1 where id = ?", a)
			cexec(t, c, "savepoint s1")
			cexec(t, c, "update "+table+" set v = 2 where id = ?", a)
			cexec(t, c, "update "+table+" set v = 2 where id = ?", b) // joins after s1
			cexec(t, c, "savepoint s2")
			cexec(t, c, "update "+table+" set v = 3 where id = ?", c3)
			cexec(t, c, "release savepoint s2")
			_, err := c.ExecContext(context.Background(), "rollback to savepoint s2")
			wantMySQLError(t, err, 1305, "released savepoint")
			cexec(t, c, "rollback to savepoint s1")
			cexec(t, c, "update "+table+" set v = 4 where id = ?", c3) // joins again
			cexec(t, c, "commit")
			for id, want := range map[int64]string{a: "1", b: "0", c3: "4"} {
				if got := queryStrings(t, db, "select v from "+table+" where id = ?", id)[0][0]; got != want {
					t.Errorf("id %d: got v=%s, want %s", id, got, want)
				}
			}
		})
	}
}

// TestLockWaitTimeoutRollsBackEverywhere: 1205 reaches the client and the
// transaction's work on its other shards is undone.
func TestLockWaitTimeoutRollsBackEverywhere(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 2)
	txTable(t, db, "lockwait", ids)
	a, b := ids[0], ids[1]
	holder := pin(t, db)
	cexec(t, holder, "begin")
	cexec(t, holder, "update lockwait set v = 9 where id = ?", a)

	c := pin(t, db)
	cexec(t, c, "set innodb_lock_wait_timeout = 1")
	cexec(t, c, "begin")
	cexec(t, c, "update lockwait set v = 1 where id = ?", b)
	_, err := c.ExecContext(context.Background(), "update lockwait set v = 1 where id = ?", a)
	wantMySQLError(t, err, 1205, "lock wait")
	cexec(t, holder, "rollback")
	// c's transaction is gone: its write on b's shard was rolled back, and
	// the next statement runs in autocommit.
	if got := queryStrings(t, db, "select v from lockwait where id = ?", b)[0][0]; got != "0" {
		t.Errorf("b after 1205: got v=%s, want 0 (rolled back)", got)
	}
	cexec(t, c, "update lockwait set v = 2 where id = ?", b)
	if got := queryStrings(t, db, "select v from lockwait where id = ?", b)[0][0]; got != "2" {
		t.Errorf("b after a later autocommit update: got v=%s, want 2", got)
	}
}

// TestTwoPCCommitLeavesNothing: a multi-shard transaction in twopc mode
// commits on every shard and leaves no prepared branch.
func TestTwoPCCommitLeavesNothing(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 3)
	txTable(t, db, "twopc_ok", ids)
	c := pin(t, db)
	if got := cvalue(t, c, "select 1"); got != "1" {
		t.Fatal(got)
	}
	cexec(t, c, "begin")
	for _, id := range ids {
		cexec(t, c, "update twopc_ok set v = 7 where id = ?", id)
	}
	cexec(t, c, "commit")
	// Autocommit multi-shard write: atomic too.
	cexec(t, c, "update twopc_ok set v = v + 1")
	for _, row := range queryStrings(t, db, "select v from twopc_ok") {
		if row[0] != "8" {
			t.Errorf("got v=%s, want 8", row[0])
		}
	}
	for _, shard := range serviceShards {
		if n := len(queryStrings(t, shared.shardDB(t, "service", shard), "xa recover")); n != 0 {
			t.Errorf("shard %s: %d prepared branches left", shard, n)
		}
	}
}

// TestIdleTransactionRolledBack: a client that sits in a transaction past
// the idle timeout loses it (and its connection); its locks are released.
func TestIdleTransactionRolledBack(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 2)
	txTable(t, db, "idle_tx", ids) // before the second gateway reads the vschema
	gw, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: shared.Get(t).Cluster.Store,
		TwoPC: gateway.TwoPCConfig{IdleTimeout: 300 * time.Millisecond, DisableResolver: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	idb, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service", gw.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer idb.Close()
	c := pin(t, idb)
	cexec(t, c, "begin")
	cexec(t, c, "update idle_tx set v = 1 where id in (?, ?)", ids[0], ids[1])
	time.Sleep(time.Second)
	other := pin(t, db)
	cexec(t, other, "set innodb_lock_wait_timeout = 2")
	cexec(t, other, "update idle_tx set v = 5 where id in (?, ?)", ids[0], ids[1]) // would wait if locks were held
	_, err = c.ExecContext(context.Background(), "commit")
	if err == nil {
		t.Fatal("commit after the idle timeout succeeded; want the connection gone")
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		t.Fatalf("got MySQL error %v, want a closed connection", err)
	}
	for _, row := range queryStrings(t, db, "select v from idle_tx") {
		if row[0] != "5" {
			t.Errorf("got v=%s, want 5 (the idle transaction's update rolled back)", row[0])
		}
	}
}

// TestDeadlockRollsBackEverywhere: the deadlock victim gets 1213 and its
// transaction is undone on every shard, including one the deadlock did
// not involve.
func TestDeadlockRollsBackEverywhere(t *testing.T) {
	db := shared.db(t, "service", "")
	other := idsOnDistinctShards(t, 2)[1]
	home := shardOf(t, 1)
	var same []int64 // ids on shard `home`
	for id := int64(1); len(same) < 4; id++ {
		if shardOf(t, id) == home {
			same = append(same, id)
		}
	}
	txTable(t, db, "deadlock_t", append(same, other))
	victim, winner := pin(t, db), pin(t, db)
	cexec(t, victim, "begin")
	cexec(t, victim, "update deadlock_t set v = 1 where id = ?", other) // another shard
	cexec(t, victim, "update deadlock_t set v = 1 where id = ?", same[0])
	cexec(t, winner, "begin")
	// The winner changes more rows: InnoDB picks the lighter transaction.
	// (One row at a time: on a tiny table an IN list may scan, and
	// REPEATABLE READ would lock every row it reads.)
	for _, id := range same[1:] {
		cexec(t, winner, "update deadlock_t set v = 2 where id = ?", id)
	}
	done := make(chan error, 1)
	go func() {
		_, err := victim.ExecContext(context.Background(), "update deadlock_t set v = 1 where id = ?", same[1])
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // the victim waits for the winner's lock
	if _, err := winner.ExecContext(context.Background(), "update deadlock_t set v = 2 where id = ?", same[0]); err != nil {
		t.Fatalf("winner: %v", err)
	}
	wantMySQLError(t, <-done, 1213, "deadlock victim")
	cexec(t, winner, "commit")
	if got := queryStrings(t, db, "select v from deadlock_t where id = ?", other)[0][0]; got != "0" {
		t.Errorf("victim's write on the other shard: got v=%s, want 0 (rolled back)", got)
	}
	// The victim's session is out of its transaction and usable.
	cexec(t, victim, "update deadlock_t set v = 3 where id = ?", other)
	if got := queryStrings(t, db, "select v from deadlock_t where id = ?", other)[0][0]; got != "3" {
		t.Errorf("after the deadlock: got v=%s, want 3", got)
	}
}

// TestClientGoneRollsBack: a client that disconnects inside a twopc
// transaction spanning shards has it rolled back on every shard, its
// locks released and no branch left prepared.
func TestClientGoneRollsBack(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 2)
	txTable(t, db, "gone_tx", ids)
	gone := shared.db(t, "service", "")
	gone.SetMaxIdleConns(0) // Conn.Close really closes
	c := pin(t, gone)
	cexec(t, c, "begin")
	cexec(t, c, "update gone_tx set v = 1 where id in (?, ?)", ids[0], ids[1])
	c.Close()
	other := pin(t, db)
	cexec(t, other, "set innodb_lock_wait_timeout = 5")
	cexec(t, other, "update gone_tx set v = v + 10 where id in (?, ?)", ids[0], ids[1])
	for _, row := range queryStrings(t, db, "select v from gone_tx") {
		if row[0] != "10" {
			t.Errorf("got v=%s, want 10 (the gone client's update rolled back)", row[0])
		}
	}
	for _, shard := range serviceShards {
		if n := len(queryStrings(t, shared.shardDB(t, "service", shard), "xa recover")); n != 0 {
			t.Errorf("shard %s: %d prepared branches left", shard, n)
		}
	}
}
