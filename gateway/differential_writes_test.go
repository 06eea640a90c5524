package gateway_test

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// The differential test's DML phase: the same random writes go to the
// sharded keyspace through the gateway and to the plain MariaDB directly
// (single statements and transactions that commit or roll back); each
// must report the same rows affected or the same error number, and
// afterwards every table must hold the same rows on both sides.

// diffTables are the tables compared whole, with their key order.
var diffTables = []struct{ name, order string }{
	{"dt_user", "id"},
	{"dt_order", "user_id, id"},
	{"dt_item", "id"},
	{"dt_ref", "code"},
}

// diffWrite generates one random write.
func diffWrite(rng *rand.Rand, next *int) string {
	names := []string{"'alice'", "'Bob'", "'carol '", "'zoe'", "NULL", "'Ann'"}
	cities := []string{"'Seoul'", "'seoul'", "'Busan'", "'Paris'", "NULL", "'oslo'"}
	statuses := []string{"'paid'", "'PAID'", "'open'", "'void'", "NULL"}
	skus := []string{"'apple'", "'PEAR'", "'kiwi '", "'fig'", "NULL"}
	pick := func(s []string) string { return s[rng.Intn(len(s))] }
	id := func(n int) int { return 1 + rng.Intn(n) }
	newID := func() int { *next++; return *next }
	switch rng.Intn(21) {
	case 19:
		// Subqueries over other sharded tables, run first at the gateway.
		if rng.Intn(2) == 0 {
			return fmt.Sprintf("delete from dt_item where user_id in (select id from dt_user where age > %d and city = %s)", 40+rng.Intn(25), pick(cities[:4]))
		}
		return fmt.Sprintf("update dt_item set qty = qty + 1 where user_id not in (select user_id from dt_order where amount < %d) and sku = %s", rng.Intn(100), pick(skus[:4]))
	case 20:
		// A subquery reading the target table: MariaDB reads it whole first.
		if rng.Intn(2) == 0 {
			return fmt.Sprintf("update dt_user set status_code = %d where id in (select user_id from dt_item where sku = %s) and age < (select avg(age) from dt_user)", rng.Intn(4), pick(skus[:4]))
		}
		return fmt.Sprintf("delete from dt_order where amount > (select avg(amount) + %d from dt_order) and exists (select 1 from dt_ref where weight > %d)", 50+rng.Intn(50), rng.Intn(100))
	case 16:
		// INSERT ... SELECT across shards: rows read at the gateway, split
		// by the target's vindex (xxhash), inserted.
		base := newID()
		*next += 1000
		return fmt.Sprintf("insert into dt_item (id, user_id, sku, price, qty, ref_code) select id + %d, id, name, score, age %% 20, status_code from dt_user where city = %s", base, pick(cities[:4]))
	case 17:
		// Across keyspaces, grouped, ignoring duplicates.
		return fmt.Sprintf("insert ignore into dt_order (user_id, id, amount, status) select code, %d, count(*), max(country) from global.dt_city where code is not null group by code", id(3))
	case 18:
		// A duplicate key among the selected rows: refused whole on both sides.
		return fmt.Sprintf("insert into dt_user (id, name, age) select user_id + %d, status, amount from dt_order where amount > 190", 100+rng.Intn(50))
	case 0:
		return fmt.Sprintf("insert into dt_user (id, name, age, score, city, status_code) values (%d, %s, %d, %d.%02d, %s, %d), (%d, %s, NULL, NULL, %s, NULL)",
			newID(), pick(names), 18+rng.Intn(50), rng.Intn(1000), rng.Intn(100), pick(cities), rng.Intn(4), newID(), pick(names), pick(cities))
	case 1:
		// A duplicate key: both sides refuse it with 1062.
		return fmt.Sprintf("insert into dt_user (id, name) values (%d, 'dup')", id(200))
	case 2:
		return fmt.Sprintf("update dt_user set age = age + %d, score = score * 2 where city = %s", rng.Intn(5), pick(cities[:4]))
	case 3:
		return fmt.Sprintf("update dt_user set name = %s where id in (%d, %d, %d)", pick(names), id(250), id(250), id(250))
	case 4:
		return fmt.Sprintf("delete from dt_user where id = %d", id(250))
	case 5:
		return fmt.Sprintf("delete from dt_user where age > %d and city is null", 55+rng.Intn(15))
	case 6:
		return fmt.Sprintf("insert into dt_order (user_id, id, amount, status) values (%d, %d, %d, %s)", id(60), newID(), rng.Intn(200), pick(statuses))
	case 7:
		return fmt.Sprintf("update dt_order set status = %s, amount = amount - 1 where amount between %d and %d", pick(statuses), rng.Intn(100), 100+rng.Intn(100))
	case 8:
		return fmt.Sprintf("delete from dt_order where user_id = %d and amount < %d", id(60), rng.Intn(150))
	case 9:
		return fmt.Sprintf("insert into dt_item (id, user_id, sku, price, qty, ref_code) values (%d, %d, %s, %d.%02d, %d, %d)",
			newID(), id(220), pick(skus), rng.Intn(300), rng.Intn(100), rng.Intn(20), rng.Intn(12))
	case 10:
		return fmt.Sprintf("update dt_item set price = price + 0.5, qty = qty + 1 where sku = %s", pick(skus[:4]))
	case 11:
		return fmt.Sprintf("delete from dt_item where qty = %d or user_id = %d", rng.Intn(20), id(220))
	case 12:
		return fmt.Sprintf("update dt_ref set weight = coalesce(weight, 0) + %d where code = %d", 1+rng.Intn(9), rng.Intn(12))
	case 13:
		return fmt.Sprintf("insert into dt_ref (code, label, weight) values (%d, 'new', %d)", 10+rng.Intn(10), rng.Intn(50))
	case 14:
		return fmt.Sprintf("update dt_user set city = %s where name = %s", pick(cities), pick(names[:4]))
	}
	return fmt.Sprintf("update dt_order set amount = NULL where user_id in (%d, %d) and status = %s", id(60), id(60), pick(statuses[:4]))
}

// outcome is what a user sees of a write: rows affected or an error number.
func outcome(res sql.Result, err error) string {
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return fmt.Sprintf("error %d", me.Number)
		}
		return "error " + err.Error()
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "error " + err.Error()
	}
	return fmt.Sprintf("%d rows", n)
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	Exec(query string, args ...any) (sql.Result, error)
}

func diffWrites(t *testing.T, sharded, plain *sql.DB) {
	rng := rand.New(rand.NewSource(3))
	next := 100000
	var statements, failed int
	apply := func(g, p execer, q string) {
		statements++
		got, want := outcome(g.Exec(q)), outcome(p.Exec(q))
		if strings.HasPrefix(got, "error") && got == want {
			failed++
		}
		if got != want {
			t.Errorf("%s\n got %s\nwant %s", q, got, want)
		}
	}
	for i := 0; i < 300; i++ {
		if rng.Intn(10) > 0 {
			apply(sharded, plain, diffWrite(rng, &next))
			continue
		}
		// A transaction of a few writes, committed or rolled back on both.
		gtx, err := sharded.Begin()
		if err != nil {
			t.Fatal(err)
		}
		ptx, err := plain.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 2+rng.Intn(3); j++ {
			apply(gtx, ptx, diffWrite(rng, &next))
		}
		end := func(tx *sql.Tx) error { return tx.Commit() }
		if rng.Intn(3) == 0 {
			end = func(tx *sql.Tx) error { return tx.Rollback() }
		}
		if err := end(gtx); err != nil {
			t.Fatalf("gateway transaction end: %v", err)
		}
		if err := end(ptx); err != nil {
			t.Fatalf("plain transaction end: %v", err)
		}
	}
	for _, tb := range diffTables {
		q := "select * from " + tb.name + " order by " + tb.order
		got, want := ask(sharded, q), ask(plain, q)
		if got.err != nil || want.err != nil {
			t.Fatalf("%s: got error %v, want error %v", q, got.err, want.err)
		}
		if !slices.Equal(got.cols, want.cols) || rowsText(got.rows, false, false) != rowsText(want.rows, false, false) {
			t.Errorf("%s after the writes:\n got %d rows:\n%s\nwant %d rows:\n%s", tb.name, len(got.rows), rowsText(got.rows, false, false), len(want.rows), rowsText(want.rows, false, false))
		}
	}
	t.Logf("differential writes: %d statements, %d refused alike by both sides", statements, failed)
}
