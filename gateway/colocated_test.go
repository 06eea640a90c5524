package gateway_test

import (
	"database/sql"
	"fmt"
	"slices"
	"testing"
)

// Co-located UPDATE and DELETE (several tables, subqueries) run on every
// shard as written; the rows they change are checked on the shards
// directly against what one database would have done.
func TestColocatedDMLChangesTheRightRows(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "create table co_user (id bigint not null, name varchar(10), flag int not null default 0, primary key (id))")
	mustExec(t, db, "create table co_order (user_id bigint not null, id bigint not null, amount int, primary key (user_id, id))")
	t.Cleanup(func() {
		mustExec(t, db, "drop table co_user")
		mustExec(t, db, "drop table co_order")
	})
	big := map[int64]bool{}  // users with an order over 50
	gone := map[int64]bool{} // users named 'gone'
	for id := int64(1); id <= 40; id++ {
		name := "keep"
		if id%3 == 0 {
			name, gone[id] = "gone", true
		}
		mustExec(t, db, "insert into co_user (id, name) values (?, ?)", id, name)
		for o := int64(1); o <= 2; o++ {
			amount := (id*7 + o*13) % 100
			big[id] = big[id] || amount > 50
			mustExec(t, db, "insert into co_order (user_id, id, amount) values (?, ?, ?)", id, o, amount)
		}
	}

	mustExec(t, db, "update co_user u join co_order o on o.user_id = u.id set u.flag = 1 where o.amount > 50")
	mustExec(t, db, "delete from co_order where exists (select 1 from co_user u where u.id = co_order.user_id and u.name = 'gone')")
	mustExec(t, db, "delete from co_user where id not in (select 1) and id in (select user_id from co_order where amount < 0)")

	var wantFlagged, wantOrders []int64
	for id := int64(1); id <= 40; id++ {
		if big[id] {
			wantFlagged = append(wantFlagged, id)
		}
		if !gone[id] {
			wantOrders = append(wantOrders, id, id)
		}
	}
	var gotFlagged, gotOrders []int64
	users := 0
	for _, shard := range serviceShards {
		sdb := shared.shardDB(t, "service", shard)
		gotFlagged = append(gotFlagged, ints(t, sdb, "select id from co_user where flag = 1")...)
		gotOrders = append(gotOrders, ints(t, sdb, "select user_id from co_order")...)
		users += len(ints(t, sdb, "select id from co_user"))
	}
	slices.Sort(gotFlagged)
	slices.Sort(gotOrders)
	if !slices.Equal(gotFlagged, wantFlagged) {
		t.Errorf("flagged users on the shards: got %v, want %v", gotFlagged, wantFlagged)
	}
	if !slices.Equal(gotOrders, wantOrders) {
		t.Errorf("orders' users on the shards: got %v, want %v", gotOrders, wantOrders)
	}
	if users != 40 {
		t.Errorf("got %d users on the shards, want 40 (no order has a negative amount)", users)
	}
	assertRowsOnOwningShards(t, "co_user", 40)
}

func ints(t *testing.T, db *sql.DB, query string) []int64 {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(fmt.Errorf("%s: %w", query, err))
	}
	return out
}
