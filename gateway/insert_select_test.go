package gateway_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestInsertSelectAcrossShards: INSERT ... SELECT whose rows come from
// every shard (and from another keyspace) lands each row on the shard of
// its own id, checked on the shards directly; a statement failing on one
// shard's duplicate inserts nothing anywhere, in autocommit and inside a
// transaction that then goes on.
func TestInsertSelectAcrossShards(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "create table is_src (id bigint primary key, v varchar(10))")
	mustExec(t, db, "create table is_dst (id bigint primary key, v varchar(10), n int)")
	mustExec(t, shared.db(t, "global", ""), "create table is_glob (k int primary key, name varchar(10))")
	mustExec(t, shared.db(t, "global", ""), "insert into is_glob values (1001, 'g1'), (1002, 'g2')")
	for i := 1; i <= 40; i++ {
		mustExec(t, db, "insert into is_src (id, v) values (?, ?)", i, fmt.Sprintf("v%d", i))
	}

	res := mustExec(t, db, "insert into is_dst (id, v, n) select id + 100, v, id * 2 from is_src where id <= 30")
	if n, _ := res.RowsAffected(); n != 30 {
		t.Fatalf("got %d rows affected, want 30", n)
	}
	mustExec(t, db, "insert into is_dst (id, v) select k, name from global.is_glob")
	total := 0
	for _, shard := range serviceShards {
		for _, row := range queryStrings(t, shared.shardDB(t, "service", shard), "select id from is_dst") {
			var id int64
			fmt.Sscan(row[0], &id)
			if got := shardOf(t, id); got != shard {
				t.Errorf("row %d is on shard %s, want %s", id, shard, got)
			}
			total++
		}
	}
	if total != 32 {
		t.Fatalf("got %d rows on the shards, want 32", total)
	}

	// ids 101..140 collide with 101..130 on some shards only: nothing of
	// the statement may stay.
	dup := "insert into is_dst (id, v) select id + 100, v from is_src"
	_, err := db.Exec(dup)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 {
		t.Fatalf("got %v, want error 1062", err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("insert into is_dst (id, v) values (500, 'tx')"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(dup); !errors.As(err, &me) || me.Number != 1062 {
		t.Fatalf("in a transaction: got %v, want error 1062", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, db, "select count(*), max(id) from is_dst"); fmt.Sprint(got) != "[[33 1002]]" {
		t.Fatalf("after the failed statements: got %v, want [[33 1002]] (the 32 rows and the transaction's own)", got)
	}
}
