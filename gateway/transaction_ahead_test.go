package gateway_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestTransactionBeginAheadOfFirstRead: a transaction whose first
// statement is a read begins its first shard (XA START) in the same
// round trip as that read; the read and the writes after it are the
// transaction's: the read's snapshot holds against a commit made on the
// shard meanwhile, and ROLLBACK undoes the writes on both shards
// (checked on the shards directly). Text and prepared reads take
// different paths to the shard; both are covered.
func TestTransactionBeginAheadOfFirstRead(t *testing.T) {
	for _, mode := range []struct{ name, params string }{
		{"text", "interpolateParams=true"},
		{"prepared", ""},
	} {
		t.Run(mode.name, func(t *testing.T) {
			db := shared.db(t, "service", mode.params)
			ids := idsOnDistinctShards(t, 2)
			txTable(t, db, "tx_ahead", ids)
			a, b := ids[0], ids[1]
			shardA, shardB := shared.shardDB(t, "service", shardOf(t, a)), shared.shardDB(t, "service", shardOf(t, b))

			tx := pin(t, db)
			cexec(t, tx, "begin")
			if got := cvalue(t, tx, "select v from tx_ahead where id = ?", a); got != "0" {
				t.Fatalf("first read: got %s, want 0", got)
			}
			mustExec(t, shardA, "update tx_ahead set v = 5 where id = ?", a)
			if got := cvalue(t, tx, "select v from tx_ahead where id = ?", a); got != "0" {
				t.Errorf("second read after a commit on the shard: got %s, want 0 (the first read began the transaction's snapshot)", got)
			}
			cexec(t, tx, "update tx_ahead set v = 100 where id = ?", b)
			cexec(t, tx, "update tx_ahead set v = 100 where id = ?", a)
			cexec(t, tx, "rollback")
			if got := queryStrings(t, shardA, "select v from tx_ahead where id = ?", a)[0][0]; got != "5" {
				t.Errorf("first shard after ROLLBACK: v = %s, want 5 (the write was in the transaction)", got)
			}
			if got := queryStrings(t, shardB, "select v from tx_ahead where id = ?", b)[0][0]; got != "0" {
				t.Errorf("second shard after ROLLBACK: v = %s, want 0", got)
			}
		})
	}
}

// TestTransactionBeginAheadFails: when the XA START sent ahead of a
// transaction's first read fails (here XAER_DUPID: the xid the gateway
// will use is held by another connection on the shard), the read answers
// that error with no rows; the shard is not left in the transaction, so
// a write there begins it again and, while XA START still fails, never
// runs; once it can begin, the write is the transaction's and ROLLBACK
// undoes it.
func TestTransactionBeginAheadFails(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 2)
	txTable(t, db, "tx_ahead_fail", ids)
	a, b := ids[0], ids[1]
	shA := shardOf(t, a)
	shardA := shared.shardDB(t, "service", shA)
	ctx := context.Background()

	// The next dtid: the one after the last two-phase commit's, whose
	// decision record this test watches being written.
	store := shared.Get(t).Cluster.Store
	watchCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	decisions := store.Client().Watch(watchCtx, store.Root()+"/twopc/tx/", clientv3.WithPrefix())
	tx := pin(t, db)
	cexec(t, tx, "begin")
	cexec(t, tx, "update tx_ahead_fail set v = 1 where id = ?", a)
	cexec(t, tx, "update tx_ahead_fail set v = 1 where id = ?", b)
	cexec(t, tx, "commit")
	var lease string
	var seq int
	for lease == "" {
		resp, ok := <-decisions
		if !ok {
			t.Fatal("no decision record seen for a two-phase commit")
		}
		for _, ev := range resp.Events {
			dtid := strings.TrimPrefix(string(ev.Kv.Key), store.Root()+"/twopc/tx/")
			if ev.Type == clientv3.EventTypePut {
				if _, err := fmt.Sscanf(strings.Replace(dtid, "-", " ", 1), "%s %d", &lease, &seq); err != nil {
					t.Fatalf("dtid %q: %v", dtid, err)
				}
			}
		}
	}
	// Hold the next few xids of shard A on connections of their own, in
	// case something else began a transaction in between.
	type holder struct {
		conn *sql.Conn
		xid  string
	}
	var holders []holder
	for next := seq + 1; next <= seq+3; next++ {
		h := holder{pin(t, shardA), fmt.Sprintf("'%s-%d','service:%s'", lease, next, shA)}
		cexec(t, h.conn, "xa start "+h.xid)
		holders = append(holders, h)
	}

	cexec(t, tx, "begin")
	rows, err := tx.QueryContext(ctx, "select v from tx_ahead_fail where id = ?", a)
	if err == nil {
		n := 0
		for rows.Next() {
			n++
		}
		err = rows.Err()
		rows.Close()
		if n > 0 {
			t.Errorf("read behind a failed XA START returned %d rows, want none", n)
		}
	}
	wantMySQLError(t, err, mysql.ER_XAER_DUPID, "first read, its XA START refused")
	_, err = tx.ExecContext(ctx, "update tx_ahead_fail set v = 2 where id = ?", a)
	wantMySQLError(t, err, mysql.ER_XAER_DUPID, "write on that shard, its XA START refused again")
	if got := queryStrings(t, shardA, "select v from tx_ahead_fail where id = ?", a)[0][0]; got != "1" {
		t.Fatalf("shard after a write whose XA START failed: v = %s, want 1 (the write must not run)", got)
	}
	for _, h := range holders {
		cexec(t, h.conn, "xa end "+h.xid)
		cexec(t, h.conn, "xa rollback "+h.xid)
	}
	cexec(t, tx, "update tx_ahead_fail set v = 3 where id = ?", a)
	if got := cvalue(t, tx, "select v from tx_ahead_fail where id = ?", a); got != "3" {
		t.Errorf("read in the transaction after its write: got %s, want 3", got)
	}
	cexec(t, tx, "rollback")
	if got := queryStrings(t, shardA, "select v from tx_ahead_fail where id = ?", a)[0][0]; got != "1" {
		t.Errorf("shard after ROLLBACK: v = %s, want 1", got)
	}
}
