package gateway_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// The lookup fixture: table lk_cust in service (primary vindex hash on id)
// owns three lookup vindexes:
//   - lk_email_idx, lookup_unique, table global.lk_email_idx (unique key);
//   - lk_name_idx, lookup (non-unique), table global.lk_name_idx (no key:
//     one row per owner row);
//   - lk_phone_idx, consistent_lookup_unique, table service.lk_phone_idx,
//     itself sharded by xxhash on phone.
//
// lk_sku_idx is a non-owned lookup_unique on lk_product.sku, whose table
// global.lk_sku_idx the application fills.
//
// The same rows also go, as written, into global.lk_cust (one MariaDB), to
// compare query results with.
const lookupOwnerDDL = "create table lk_cust (id bigint not null, email varchar(64), name varchar(64), phone varchar(32), city varchar(32), primary key (id))"

func setUpLookups(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	global := shared.db(t, "global", "")
	for _, q := range []string{
		"create table lk_email_idx (email varchar(64) not null, keyspace_id varbinary(16) not null, primary key (email))",
		"create table lk_name_idx (name varchar(64) not null, keyspace_id varbinary(16) not null, key (name))",
		"create table lk_sku_idx (sku varchar(32) not null, keyspace_id varbinary(16) not null, primary key (sku))",
		lookupOwnerDDL,
	} {
		mustExec(t, global, q)
	}
	lookup := func(typ, table, from string) *vschema.VindexDef {
		return &vschema.VindexDef{Type: typ, Owner: "lk_cust", Params: map[string]string{"table": table, "from": from, "to": "keyspace_id"}}
	}
	if err := shared.Get(t).Cluster.Store.UpdateVSchema(ctx, "service", func(k *vschema.Keyspace) error {
		k.Vindexes["xxhash"] = &vschema.VindexDef{Type: "xxhash"}
		k.Vindexes["lk_email_idx"] = lookup("lookup_unique", "global.lk_email_idx", "email")
		k.Vindexes["lk_name_idx"] = lookup("lookup", "global.lk_name_idx", "name")
		k.Vindexes["lk_phone_idx"] = lookup("consistent_lookup_unique", "service.lk_phone_idx", "phone")
		sku := lookup("lookup_unique", "global.lk_sku_idx", "sku")
		sku.Owner = ""
		k.Vindexes["lk_sku_idx"] = sku
		if k.Tables == nil {
			k.Tables = map[string]*vschema.Table{}
		}
		cust := newTable("id", "hash")
		for _, cv := range [][2]string{{"email", "lk_email_idx"}, {"name", "lk_name_idx"}, {"phone", "lk_phone_idx"}} {
			cust.ColumnVindexes = append(cust.ColumnVindexes, &vschema.ColumnVindex{Column: cv[0], Name: cv[1]})
		}
		k.Tables["lk_cust"] = cust
		k.Tables["lk_phone_idx"] = newTable("phone", "xxhash")
		product := newTable("id", "hash")
		product.ColumnVindexes = append(product.ColumnVindexes, &vschema.ColumnVindex{Column: "sku", Name: "lk_sku_idx"})
		k.Tables["lk_product"] = product
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	svc := shared.db(t, "service", "")
	waitFor(t, func() bool {
		rows, err := svc.Query("vexplain plan select * from lk_cust where email = 'x'")
		if err != nil {
			return false
		}
		defer rows.Close()
		var plan string
		return rows.Next() && rows.Scan(&plan) == nil && strings.Contains(plan, "lk_email_idx")
	})
	for _, q := range []string{
		lookupOwnerDDL,
		"create table lk_phone_idx (phone varchar(32) not null, keyspace_id varbinary(16) not null, primary key (phone))",
		"create table lk_product (id bigint not null, sku varchar(32), primary key (id))",
	} {
		mustExec(t, svc, q)
	}
}

// lookupRows is a multiset of (value, keyspace id) rows.
type lookupRows map[string]int

func (m lookupRows) add(value string, ksid []byte) { m[fmt.Sprintf("%s -> %x", value, ksid)]++ }

func (m lookupRows) String() string {
	var out []string
	for k, n := range m {
		for range n {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// assertLookupsMatchOwners reads every shard directly: each owned lookup
// table holds exactly one row per owner row with a non-NULL value, naming
// that row's keyspace id, and each lk_phone_idx row is on the shard its
// own vindex (xxhash of phone) picks.
func assertLookupsMatchOwners(t *testing.T) {
	t.Helper()
	hash, _ := vindex.New("hash", "hash", nil)
	xx, _ := vindex.New("xxhash", "xxhash", nil)
	want := map[string]lookupRows{"email": {}, "name": {}, "phone": {}}
	for _, shard := range serviceShards {
		db := shared.shardDB(t, "service", shard)
		rows, err := db.Query("select id, email, name, phone from lk_cust")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			var vals [3]sql.NullString
			if err := rows.Scan(&id, &vals[0], &vals[1], &vals[2]); err != nil {
				t.Fatal(err)
			}
			ksid, err := hash.(vindex.Functional).Map(id)
			if err != nil {
				t.Fatal(err)
			}
			for i, col := range []string{"email", "name", "phone"} {
				if vals[i].Valid {
					want[col].add(vals[i].String, ksid)
				}
			}
		}
		rows.Close()
	}
	got := map[string]lookupRows{"email": {}, "name": {}, "phone": {}}
	read := func(db *sql.DB, table, col string, check func(value string)) {
		rows, err := db.Query("select " + col + ", keyspace_id from " + table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			var ksid []byte
			if err := rows.Scan(&v, &ksid); err != nil {
				t.Fatal(err)
			}
			got[col].add(v, ksid)
			if check != nil {
				check(v)
			}
		}
	}
	g := shared.shardDB(t, "global", "0")
	read(g, "lk_email_idx", "email", nil)
	read(g, "lk_name_idx", "name", nil)
	for _, shard := range serviceShards {
		kr, _ := vindex.ParseKeyRange(shard)
		read(shared.shardDB(t, "service", shard), "lk_phone_idx", "phone", func(phone string) {
			id, err := xx.(vindex.Functional).Map(phone)
			if err != nil || !kr.Contains(id) {
				t.Errorf("lk_phone_idx row %q is on shard %s, not on the shard of its keyspace id %s", phone, shard, id)
			}
		})
	}
	for _, col := range []string{"email", "name", "phone"} {
		if got[col].String() != want[col].String() {
			t.Errorf("lookup rows for %s:\ngot  %s\nwant %s (from the owner rows)", col, got[col], want[col])
		}
	}
}

// both runs a write through the gateway on service and as written on
// global's copy of the table.
func both(t *testing.T, svc, global *sql.DB, q string, args ...any) {
	t.Helper()
	mustExec(t, svc, q, args...)
	mustExec(t, global, q, args...)
}

// TestLookupVindexes: inserts, updates and deletes of the owner table,
// including rolled-back ones, keep every lookup row in step with its
// owner row (read on the shards directly); queries by a lookup column
// return what one MariaDB returns and reach only the owning shard, after
// a lookup query VEXPLAIN QUERIES shows.
func TestLookupVindexes(t *testing.T) {
	setUpLookups(t)
	svc := shared.db(t, "service", "")
	global := shared.db(t, "global", "")

	var values []string
	for id := 1; id <= 40; id++ {
		phone := fmt.Sprintf("'555-%04d'", id)
		if id%10 == 0 {
			phone = "NULL"
		}
		values = append(values, fmt.Sprintf("(%d, 'u%d@x.com', 'name%d', %s, 'city%d')", id, id, id%7, phone, id%3))
	}
	both(t, svc, global, "insert into lk_cust (id, email, name, phone, city) values "+strings.Join(values, ", "))
	for id := 41; id <= 45; id++ {
		both(t, svc, global, "insert into lk_cust (id, email, name, phone, city) values (?, ?, ?, ?, ?)", id, fmt.Sprintf("u%d@x.com", id), "name1", nil, "city9")
	}
	assertLookupsMatchOwners(t)

	both(t, svc, global, "update lk_cust set email = 'renamed3@x.com' where id = 3")
	both(t, svc, global, "update lk_cust set name = ?, phone = ? where id in (4, 5, 6, 7)", "name9", nil)
	both(t, svc, global, "update lk_cust set email = ? where email = ?", "renamed8@x.com", "u8@x.com")
	both(t, svc, global, "update lk_cust set city = 'moved' where name = 'name2'")
	// Row moves: every lookup row of the row gets its new keyspace id.
	both(t, svc, global, "update lk_cust set id = 500 where id = 17")
	both(t, svc, global, "update lk_cust set id = ?, email = ? where email = ?", 501, "moved18@x.com", "u18@x.com")
	both(t, svc, global, "delete from lk_cust where id = 11")
	both(t, svc, global, "delete from lk_cust where email = 'u12@x.com'")
	both(t, svc, global, "delete from lk_cust where city = 'city2' and id > 30")
	// Two rows swap their emails in one transaction.
	tx, err := svc.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"update lk_cust set email = 'swap@x.com' where id = 13",
		"update lk_cust set email = 'u13@x.com' where id = 14",
		"update lk_cust set email = 'u14@x.com' where id = 13",
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, global, "update lk_cust set email = case id when 13 then 'u14@x.com' else 'u13@x.com' end where id in (13, 14)")
	assertLookupsMatchOwners(t)

	t.Run("rolled back", func(t *testing.T) {
		tx, err := svc.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			"insert into lk_cust (id, email, name, phone, city) values (100, 'gone@x.com', 'gone', '555-9999', 'x')",
			"update lk_cust set email = 'gone2@x.com', phone = '555-8888' where id = 15",
			"delete from lk_cust where id = 16",
		} {
			if _, err := tx.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// Inside the transaction, the lookup sees its own writes.
		var id int
		if err := tx.QueryRow("select id from lk_cust where email = 'gone2@x.com'").Scan(&id); err != nil || id != 15 {
			t.Errorf("select by a lookup value written in the transaction: got %d, %v; want 15", id, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		assertLookupsMatchOwners(t)
		if got := queryStrings(t, svc, "select id from lk_cust where email in ('gone@x.com', 'gone2@x.com', 'u15@x.com', 'u16@x.com') order by id"); fmt.Sprint(got) != "[[15] [16]]" {
			t.Errorf("after rollback: got %v, want [[15] [16]]", got)
		}
	})

	t.Run("queries by lookup columns match one MariaDB", func(t *testing.T) {
		queries := []struct {
			q    string
			args []any
		}{
			{"select id, email, name, phone, city from lk_cust where email = ?", []any{"u20@x.com"}},
			{"select id, email from lk_cust where email = 'renamed3@x.com'", nil},
			{"select id, email from lk_cust where email = 'u3@x.com'", nil},
			{"select id, email from lk_cust where email = 'nobody@x.com'", nil},
			{"select id from lk_cust where email in ('u1@x.com', 'u13@x.com', 'u14@x.com', 'u30@x.com', 'nobody') order by id", nil},
			{"select id, name from lk_cust where name = ? order by id", []any{"name1"}},
			{"select id, name from lk_cust where name = 'name9' order by id", nil},
			{"select count(*), min(id), max(id) from lk_cust where name = 'name3'", nil},
			{"select id, phone from lk_cust where phone = '555-0021'", nil},
			{"select id, phone from lk_cust where phone = '555-0005'", nil},
			{"select id from lk_cust where phone is null order by id", nil},
			{"select id from lk_cust where email = 'u22@x.com' and name = 'name1'", nil},
			{"select id from lk_cust where name = 'name1' and city = 'city9' order by id", nil},
			{"select id, email, name, phone from lk_cust where email in ('u17@x.com', 'moved18@x.com', 'u18@x.com') or id in (500, 501) order by id", nil},
			{"select id, phone from lk_cust where phone in ('555-0017', '555-0018') order by id", nil},
		}
		for _, q := range queries {
			got := queryStrings(t, svc, q.q, q.args...)
			want := queryStrings(t, global, q.q, q.args...)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %v: got %v, want %v (one MariaDB)", q.q, q.args, got, want)
			}
		}
	})

	t.Run("a lookup query, then only the owning shard", func(t *testing.T) {
		log := startShardQueryLog(t)
		got := queryStrings(t, svc, "select id, 'lk_marker' from lk_cust where email = 'u21@x.com'")
		if len(got) != 1 || got[0][0] != "21" {
			t.Fatalf("got %v, want id 21", got)
		}
		sent := log.queries(t, "lk_marker")
		owner := shardOf(t, 21)
		if len(sent) != 1 || len(sent[owner]) != 1 {
			t.Errorf("select by email of id 21 (owner %s): got shard queries %v, want one on %s only", owner, sent, owner)
		}
		got = queryStrings(t, svc, "select id, 'lk_marker2' from lk_cust where name = 'name6' order by id")
		owners := map[string]bool{}
		for _, row := range got {
			var id int64
			fmt.Sscan(row[0], &id)
			owners[shardOf(t, id)] = true
		}
		if sent := log.queries(t, "lk_marker2"); len(got) == 0 || len(sent) != len(owners) {
			t.Errorf("select by name6 (rows %v on shards %v): got shard queries %v, want one per owning shard", got, keys(owners), sent)
		}

		rows := queryStrings(t, svc, "vexplain queries select id from lk_cust where email = 'u21@x.com'")
		if len(rows) != 2 || rows[0][1] != "global" || !strings.Contains(rows[0][3], "lk_email_idx") ||
			rows[1][1] != "service" || rows[1][2] != owner {
			t.Errorf("vexplain queries: got %v, want the lookup query on global, then one query on %s", rows, owner)
		}
	})

	t.Run("non-owned lookup", func(t *testing.T) {
		hash, _ := vindex.New("hash", "hash", nil)
		for id := int64(1); id <= 8; id++ {
			mustExec(t, svc, "insert into lk_product (id, sku) values (?, ?)", id, fmt.Sprintf("SKU-%d", id))
			ksid, _ := hash.(vindex.Functional).Map(id)
			mustExec(t, global, "insert into lk_sku_idx (sku, keyspace_id) values (?, ?)", fmt.Sprintf("SKU-%d", id), []byte(ksid))
		}
		if n := queryStrings(t, global, "select count(*) from lk_sku_idx"); n[0][0] != "8" {
			t.Errorf("inserts into the owner of no lookup wrote lookup rows: %v rows, want the 8 the test wrote", n)
		}
		rows := queryStrings(t, svc, "vexplain queries select id from lk_product where sku = 'SKU-5'")
		if len(rows) != 2 || !strings.Contains(rows[0][3], "lk_sku_idx") || rows[1][2] != shardOf(t, 5) {
			t.Errorf("vexplain queries: got %v, want the lookup query, then shard %s", rows, shardOf(t, 5))
		}
		if got := queryStrings(t, svc, "select id from lk_product where sku = 'SKU-5'"); fmt.Sprint(got) != "[[5]]" {
			t.Errorf("select by sku: got %v, want [[5]]", got)
		}
	})

	t.Run("duplicates", func(t *testing.T) { testLookupDuplicates(t, svc) })
	t.Run("random writes", func(t *testing.T) { testLookupRandom(t, svc, global) })
}

// testLookupDuplicates: a value a unique lookup already holds is a MySQL
// duplicate-key error (1062) and writes nothing; a consistent lookup takes
// over a lookup row whose owner row is gone.
func testLookupDuplicates(t *testing.T, svc *sql.DB) {
	mustExec(t, svc, "insert into lk_cust (id, email, name, phone) values (200, 'dup@x.com', 'd', '555-0200')")

	wantDup := func(what string, err error, wantIn string) {
		t.Helper()
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1062 || !strings.Contains(me.Message, wantIn) {
			t.Errorf("%s: got %v, want error 1062 naming %q", what, err, wantIn)
		}
	}
	_, err := svc.Exec("insert into lk_cust (id, email, name, phone) values (201, 'dup@x.com', 'd', '555-0201')")
	wantDup("insert of a duplicate email (lookup_unique)", err, "dup@x.com")
	_, err = svc.Exec("insert into lk_cust (id, email, name, phone) values (202, 'other@x.com', 'd', '555-0200')")
	wantDup("insert of a duplicate phone (consistent_lookup_unique)", err, "lk_phone_idx")
	_, err = svc.Exec("update lk_cust set email = 'dup@x.com' where id = 1")
	wantDup("update to a duplicate email", err, "dup@x.com")
	if got := queryStrings(t, svc, "select id from lk_cust where id in (201, 202) or email = 'dup@x.com' order by id"); fmt.Sprint(got) != "[[200]]" {
		t.Errorf("after the refused writes: got %v, want only row 200", got)
	}
	assertLookupsMatchOwners(t)

	// In a transaction, a failed statement's lookup writes are undone with
	// it (the owner insert fails on its primary key after the lookup rows
	// went in), and the transaction goes on, as in MySQL.
	tx, err := svc.Begin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec("insert into lk_cust (id, email, name, phone) values (200, 'orphan@x.com', 'o', '555-0400')")
	wantDup("insert of a duplicate primary key in a transaction", err, "PRIMARY")
	if _, err := tx.Exec("insert into lk_cust (id, email, name, phone) values (204, 'kept@x.com', 'k', '555-0204')"); err != nil {
		t.Fatalf("the transaction after a failed statement: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, svc, "select id from lk_cust where email in ('orphan@x.com', 'kept@x.com')"); fmt.Sprint(got) != "[[204]]" {
		t.Errorf("after the transaction: got %v, want [[204]]", got)
	}
	assertLookupsMatchOwners(t)

	// A leftover lookup row (its owner row never committed, e.g. written
	// outside a transaction) is taken over by the next owner of the value.
	hash, _ := vindex.New("hash", "hash", nil)
	ghost, _ := hash.(vindex.Functional).Map(int64(999999))
	phoneShard := ""
	xx, _ := vindex.New("xxhash", "xxhash", nil)
	pid, _ := xx.(vindex.Functional).Map("555-0300")
	for _, sh := range serviceShards {
		if kr, _ := vindex.ParseKeyRange(sh); kr.Contains(pid) {
			phoneShard = sh
		}
	}
	if phoneShard == "" {
		t.Fatalf("no shard for phone keyspace id %s", pid)
	}
	mustExec(t, shared.shardDB(t, "service", phoneShard), "insert into lk_phone_idx (phone, keyspace_id) values ('555-0300', ?)", []byte(ghost))
	mustExec(t, svc, "insert into lk_cust (id, email, name, phone) values (203, 'fresh@x.com', 'f', '555-0300')")
	if got := queryStrings(t, svc, "select id from lk_cust where phone = '555-0300'"); fmt.Sprint(got) != "[[203]]" {
		t.Errorf("select by the taken-over phone: got %v, want [[203]]", got)
	}
	assertLookupsMatchOwners(t)
}
