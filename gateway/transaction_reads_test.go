package gateway_test

import (
	"testing"
	"time"
)

// shardTransactions counts the InnoDB transactions open on a shard's
// primary, other than the counting connection's own.
func shardTransactions(t *testing.T, shard string) string {
	t.Helper()
	db := shared.shardDB(t, "service", shard)
	// InnoDB refreshes what information_schema.innodb_trx shows at most
	// every 100 ms.
	time.Sleep(150 * time.Millisecond)
	return queryStrings(t, db, "select count(*) from information_schema.innodb_trx where trx_mysql_thread_id <> connection_id()")[0][0]
}

// TestTransactionPlainReadsJoinNoLaterShard: inside a transaction, a
// plain SELECT on a shard the transaction has not joined, which would
// join it READ COMMITTED, opens no transaction there (it reads what a
// READ COMMITTED transaction would: the latest commits); a locking read
// or a write joins the shard as before, and the first participant keeps
// its REPEATABLE READ snapshot.
func TestTransactionPlainReadsJoinNoLaterShard(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 2)
	txTable(t, db, "tx_reads", ids)
	a, b := ids[0], ids[1]
	shardA, shardB := shardOf(t, a), shardOf(t, b)

	tx := pin(t, db)
	cexec(t, tx, "begin")
	cvalue(t, tx, "select v from tx_reads where id = ?", a) // first participant: REPEATABLE READ
	cvalue(t, tx, "select v from tx_reads where id = ?", b)
	if got := shardTransactions(t, shardA); got != "1" {
		t.Errorf("transactions on %s (first participant) after its read: got %s, want 1", shardA, got)
	}
	if got := shardTransactions(t, shardB); got != "0" {
		t.Errorf("transactions on %s after a plain read of a later shard: got %s, want 0", shardB, got)
	}
	mustExec(t, db, "update tx_reads set v = v + 1 where id in (?, ?)", a, b)
	if got := cvalue(t, tx, "select v from tx_reads where id = ?", b); got != "1" {
		t.Errorf("later shard: got %s, want 1 (READ COMMITTED sees the commit)", got)
	}
	if got := cvalue(t, tx, "select v from tx_reads where id = ?", a); got != "0" {
		t.Errorf("first participant: got %s, want 0 (keeps REPEATABLE READ)", got)
	}

	// A locking read joins the shard: its lock is held until commit.
	cvalue(t, tx, "select v from tx_reads where id = ? for update", b)
	if got := shardTransactions(t, shardB); got != "1" {
		t.Errorf("transactions on %s after SELECT ... FOR UPDATE: got %s, want 1", shardB, got)
	}
	cexec(t, tx, "update tx_reads set v = 10 where id = ?", b)
	cexec(t, tx, "commit")
	if got := shardTransactions(t, shardB); got != "0" {
		t.Errorf("transactions on %s after commit: got %s, want 0", shardB, got)
	}
	if got := queryStrings(t, shared.shardDB(t, "service", shardB), "select v from tx_reads where id = ?", b)[0][0]; got != "10" {
		t.Errorf("v of %d on %s after commit: got %s, want 10", b, shardB, got)
	}
}
