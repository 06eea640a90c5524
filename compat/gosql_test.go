package compat_test

import (
	"database/sql"
	"fmt"
	"reflect"
	"testing"
)

// TestGoSQLDriver runs the same CRUD and transaction script through
// go-sql-driver in its three modes: text protocol (no args), server-side
// prepared statements (args, the default) and interpolateParams=true
// (args inlined by the driver into text queries), in both keyspaces.
func TestGoSQLDriver(t *testing.T) {
	for _, ks := range []string{unsharded, sharded} {
		for _, mode := range []struct{ name, params string }{
			{"prepared", ""},
			{"interpolate", "interpolateParams=true"},
		} {
			t.Run(ks+"/"+mode.name, func(t *testing.T) {
				db := shared.db(t, ks, mode.params)
				table := "go_items_" + mode.name
				mustExec(t, db, "drop table if exists "+table)
				mustExec(t, db, "create table "+table+" (id bigint primary key, name varchar(50), qty int)")

				// Text protocol: no arguments.
				mustExec(t, db, "insert into "+table+" (id, name, qty) values (1, 'one', 10), (2, 'two', 20)")
				// Arguments: prepared or interpolated.
				for i := 3; i <= 10; i++ {
					mustExec(t, db, "insert into "+table+" (id, name, qty) values (?, ?, ?)", i, fmt.Sprintf("n%d", i), i*10)
				}
				var name string
				var qty int
				if err := db.QueryRow("select name, qty from "+table+" where id = ?", 2).Scan(&name, &qty); err != nil || name != "two" || qty != 20 {
					t.Fatalf("select id=2: got %q %d %v, want two 20", name, qty, err)
				}
				stmt, err := db.Prepare("select id from " + table + " where qty >= ? order by id")
				if err != nil {
					t.Fatal(err)
				}
				defer stmt.Close()
				for _, min := range []int{90, 50} {
					rows, err := stmt.Query(min)
					if err != nil {
						t.Fatal(err)
					}
					var ids []int64
					for rows.Next() {
						var id int64
						if err := rows.Scan(&id); err != nil {
							t.Fatal(err)
						}
						ids = append(ids, id)
					}
					rows.Close()
					want := []int64{}
					for i := int64(min / 10); i <= 10; i++ {
						want = append(want, i)
					}
					if !reflect.DeepEqual(ids, want) {
						t.Fatalf("qty >= %d: got %v, want %v", min, ids, want)
					}
				}
				res := mustExec(t, db, "update "+table+" set qty = qty + 1 where id in (?, ?)", 1, 2)
				if n, _ := res.RowsAffected(); n != 2 {
					t.Fatalf("update: got %d rows affected, want 2", n)
				}

				// Transactions: rollback leaves nothing, commit keeps both rows.
				tx, err := db.Begin()
				if err != nil {
					t.Fatal(err)
				}
				mustExec(t, tx, "insert into "+table+" (id, name, qty) values (?, 'tx', 0)", 100)
				mustExec(t, tx, "delete from "+table+" where id = ?", 1)
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
				tx, err = db.Begin()
				if err != nil {
					t.Fatal(err)
				}
				mustExec(t, tx, "insert into "+table+" (id, name, qty) values (?, 'tx', 0), (?, 'tx', 0)", 101, 102)
				var inTx int
				if err := tx.QueryRow("select count(*) from " + table + " where name = 'tx'").Scan(&inTx); err != nil || inTx != 2 {
					t.Fatalf("count inside tx: got %d %v, want 2", inTx, err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				got := queryStrings(t, db, "select id, qty from "+table+" where id in (1, 2, 100, 101, 102) order by id")
				want := [][]string{{"1", "11"}, {"2", "21"}, {"101", "0"}, {"102", "0"}}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("after transactions: got %v, want %v", got, want)
				}
				var null sql.NullString
				if err := db.QueryRow("select null").Scan(&null); err != nil || null.Valid {
					t.Fatalf("select null: got %v %v", null, err)
				}
				mustExec(t, db, "drop table "+table)
			})
		}
	}
}
