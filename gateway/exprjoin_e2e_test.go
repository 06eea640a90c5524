package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// exprjoinTables creates ej_a and ej_b (sharded by id) with n rows each,
// v and w both running 1..n, so a join on v = w pairs row i with row i
// and a cross join makes n*n pairs.
func exprjoinTables(t *testing.T, n int) {
	t.Helper()
	db := shared.db(t, "service", "")
	for _, tb := range []string{"ej_a", "ej_b"} {
		mustExec(t, db, "drop table if exists "+tb)
		mustExec(t, db, "create table "+tb+" (id bigint not null, v int, primary key (id))")
		var tuples []string
		for id := 1; id <= n; id++ {
			tuples = append(tuples, fmt.Sprintf("(%d, %d)", id, id))
		}
		mustExec(t, db, "insert into "+tb+" (id, v) values "+strings.Join(tuples, ", "))
	}
	t.Cleanup(func() {
		mustExec(t, db, "drop table if exists ej_a")
		mustExec(t, db, "drop table if exists ej_b")
	})
}

// TestGatewayJoinPairsCountAgainstTheRowBudget: the pairs a gateway join
// makes are rows held at the gateway: a cross join of 30 by 30 rows (900
// pairs) fails with 1041 under a budget of 200 rows although its inputs
// (60 rows) fit, and the equality join of the same tables (30 pairs) is
// answered.
func TestGatewayJoinPairsCountAgainstTheRowBudget(t *testing.T) {
	exprjoinTables(t, 30)
	small := smallBudgetDB(t, 200)
	_, err := small.Query("select a.id, b.id from ej_a a join ej_b b on b.v > a.v - 100")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1041 {
		t.Fatalf("a join of 900 pairs with a budget of 200 rows: got %v, want 1041", err)
	}
	rows := queryStrings(t, small, "select a.id, b.id, a.v + b.v from ej_a a join ej_b b on b.v = a.v order by a.id")
	if len(rows) != 30 || strings.Join(rows[29], " ") != "30 30 60" {
		t.Fatalf("the equality join under the budget: got %d rows ending %v, want 30 ending [30 30 60]", len(rows), rows[len(rows)-1])
	}
}

// TestGatewayJoinForUpdateLocksRowsOnBothSides: SELECT ... FOR UPDATE
// over a gateway join (not co-located: joined on v) locks the rows each
// side's query read, so another session's update of the inner table's
// matched row waits on its shard until the lock wait timeout.
func TestGatewayJoinForUpdateLocksRowsOnBothSides(t *testing.T) {
	exprjoinTables(t, 8)
	db := shared.db(t, "service", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	got := queryStrings(t, tx, "select a.id, b.id from ej_a a join ej_b b on b.v = a.v + 2 where a.id = 3 for update")
	if len(got) != 1 || got[0][1] != "5" {
		t.Fatalf("got %v, want [[3 5]]", got)
	}
	// ej_b's row 5 is locked on its shard: an update there times out.
	for _, shard := range []string{"-40", "40-80", "80-c0", "c0-"} {
		sdb := shared.shardDB(t, "service", shard)
		if len(queryStrings(t, sdb, "select id from ej_b where id = 5")) == 0 {
			continue
		}
		conn, err := sdb.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "set session innodb_lock_wait_timeout = 1"); err != nil {
			t.Fatal(err)
		}
		_, err = conn.ExecContext(ctx, "update ej_b set v = v where id = 5")
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1205 {
			t.Fatalf("update of the locked row on shard %s: got %v, want 1205 (lock wait timeout)", shard, err)
		}
		return
	}
	t.Fatal("no shard holds ej_b row 5")
}
