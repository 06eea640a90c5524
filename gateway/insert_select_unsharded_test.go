package gateway_test

import (
	"context"
	"fmt"
	"testing"
)

// TestInsertSelectIntoUnshardedKeyspace: INSERT ... SELECT into a table of
// the unsharded keyspace from every shard of the sharded one (with and
// without a column list, of a grouped scatter) lands every row on the
// unsharded shard, checked there directly; a statement with a duplicate
// inserts none of its rows, in autocommit and inside a transaction that
// then goes on and commits. It was refused (1235) before.
func TestInsertSelectIntoUnshardedKeyspace(t *testing.T) {
	db := shared.db(t, "service", "")
	global := shared.db(t, "global", "")
	mustExec(t, db, "drop table if exists isu_src")
	mustExec(t, db, "create table isu_src (id bigint primary key, name varchar(10), grp int)")
	mustExec(t, global, "drop table if exists isu_dst")
	mustExec(t, global, "create table isu_dst (id bigint primary key, name varchar(10))")
	mustExec(t, global, "drop table if exists isu_sum")
	mustExec(t, global, "create table isu_sum (grp int primary key, n bigint, names text)")
	for i := 1; i <= 20; i++ {
		mustExec(t, db, "insert into isu_src (id, name, grp) values (?, ?, ?)", i, fmt.Sprintf("n%d", i), i%3)
	}
	shard := shared.shardDB(t, "global", "0")

	res := mustExec(t, db, "insert into global.isu_dst (id, name) select id, name from isu_src where id <= 10")
	if n, _ := res.RowsAffected(); n != 10 {
		t.Fatalf("got %d rows affected, want 10", n)
	}
	mustExec(t, db, "insert into global.isu_dst select id + 100, name from isu_src where id = 20")
	if got := queryStrings(t, shard, "select count(*), min(id), max(id), sum(id) from isu_dst"); fmt.Sprint(got) != "[[11 1 120 175]]" {
		t.Fatalf("on the unsharded shard: got %v, want [[11 1 120 175]]", got)
	}
	mustExec(t, global, "insert into isu_sum (grp, n, names) select grp, count(*), group_concat(name order by id) from service.isu_src group by grp")
	if got := queryStrings(t, shard, "select grp, n, names from isu_sum where grp = 0"); fmt.Sprint(got) != "[[0 6 n3,n6,n9,n12,n15,n18]]" {
		t.Fatalf("grouped: got %v, want [[0 6 n3,n6,n9,n12,n15,n18]]", got)
	}

	// ids 5..15: 5..10 are there already, so none of the eleven may stay.
	dup := "insert into global.isu_dst (id, name) select id, name from isu_src where id between 5 and 15"
	_, err := db.Exec(dup)
	wantMySQLError(t, err, 1062, dup)
	c := pin(t, db)
	cexec(t, c, "begin")
	cexec(t, c, "insert into isu_src (id, name, grp) values (500, 'tx', 0)")
	_, err = c.ExecContext(context.Background(), dup)
	wantMySQLError(t, err, 1062, "in a transaction: "+dup)
	cexec(t, c, "insert into global.isu_dst (id, name) select id, name from isu_src where id = 500")
	cexec(t, c, "commit")
	if got := queryStrings(t, shard, "select count(*), max(id) from isu_dst"); fmt.Sprint(got) != "[[12 500]]" {
		t.Fatalf("after the failed statements: got %v, want [[12 500]] (11 rows and the transaction's own)", got)
	}
	_, err = db.Exec("insert into global.isu_dst select id from isu_src")
	wantMySQLError(t, err, 1136, "a column count the table does not have")
}
