package gateway_test

import (
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// preparedTypesRows are rows of every column type whose binary encoding
// matters: NULLs, DECIMAL, DATETIME and TIME with fractions, BLOB, JSON,
// unsigned BIGINT, FLOAT and DOUBLE, BIT, YEAR, ENUM.
var preparedTypesRows = []string{
	`(1, 18446744073709551615, -9223372036854775808, '12345678901234567890.0123456789', 3.1415927, 1.7976931348623157e308,
	  '2024-02-29 12:34:56.123456', '2038-01-19 03:14:07.999', '9999-12-31', '-838:59:58.99', x'00ff5c27', '{"a": [1, 2.5, null]}', 'é😀', b'10101', 2155, 'b')`,
	`(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	`(3, 0, 0, '-0.0000000001', -1.1754944e-38, 0.1, '0000-00-00 00:00:00.000000', NULL, '0000-00-00', '00:00:00.01', x'', '[]', '', b'0', 1901, 'a')`,
	`(4, 1, -1, '-99999999999999999999.9999999999', 16777217, -2.718281828459045, '1000-01-01 00:00:00.000001', '1970-01-01 00:00:01.000', '1000-01-01', '838:59:59', repeat(x'01', 300), 'null', repeat('z', 40), b'11111', 0, 'a')`,
}

const preparedTypesTable = `create table prep_types (id bigint, u bigint unsigned, s bigint, dc decimal(30,10), f float, d double,
	dt datetime(6), ts timestamp(3) null default null, dd date, tm time(2), bl blob, j json, vc varchar(40), bt bit(5), y year, e enum('a','b'),
	primary key (id))`

// scanAll reads every row of rows as text ("NULL" for NULL), with each
// column's type name and scale in a header row.
func scanAll(t *testing.T, rows *sql.Rows) [][]string {
	t.Helper()
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var header []string
	for _, ct := range types {
		p, s, _ := ct.DecimalSize()
		n, _ := ct.Nullable()
		header = append(header, fmt.Sprintf("%s:%s(%d,%d,%v)", ct.Name(), ct.DatabaseTypeName(), p, s, n))
	}
	out := [][]string{header}
	for rows.Next() {
		vals := make([]sql.RawBytes, len(types))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = fmt.Sprintf("%q", v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// directPrepared runs query with args as a prepared statement on every
// primary of keyspace service and returns the column header and the rows
// of all of them, sorted.
func directPrepared(t *testing.T, query string, args ...any) [][]string {
	t.Helper()
	var header []string
	var all [][]string
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace != "service" || in.Type != topo.TabletPrimary {
			continue
		}
		rows, err := shared.shardDB(t, "service", in.Shard).Query(query, args...)
		if err != nil {
			t.Fatal(err)
		}
		got := scanAll(t, rows)
		header = got[0]
		all = append(all, got[1:]...)
	}
	slices.SortFunc(all, func(a, b []string) int { return strings.Compare(strings.Join(a, ","), strings.Join(b, ",")) })
	return append([][]string{header}, all...)
}

// shardStatus sums a global status counter over keyspace service's
// primaries.
func shardStatus(t *testing.T, name string) int {
	t.Helper()
	total := 0
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace != "service" || in.Type != topo.TabletPrimary {
			continue
		}
		var n, v string
		if err := shared.shardDB(t, "service", in.Shard).QueryRow("show global status like '"+name+"'").Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		i, _ := strconv.Atoi(v)
		total += i
	}
	return total
}

// TestPreparedPassThrough: a client's prepared SELECT that is one Route
// runs on the shard as a prepared statement (the shard counts an
// execution per client execution and no prepare after the first) and
// the client reads exactly what a prepared statement on MariaDB itself
// returns, for every column type, through a single-shard route and an
// unordered scatter.
func TestPreparedPassThrough(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, preparedTypesTable)
	waitFor(t, func() bool {
		_, err := db.Exec("insert into prep_types (id) values (100)")
		return err == nil
	})
	mustExec(t, db, "set time_zone = '+00:00'")
	for _, r := range preparedTypesRows {
		mustExec(t, db, "insert into prep_types values "+r)
	}
	db.SetMaxOpenConns(1) // one session: time_zone holds
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace == "service" && in.Type == topo.TabletPrimary {
			shared.shardDB(t, "service", in.Shard).SetMaxOpenConns(1)
		}
	}

	const point = "select * from prep_types where id = ?"
	for id := 1; id <= len(preparedTypesRows)+1; id++ {
		want := directPrepared(t, point, id)
		rows, err := db.Query(point, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := scanAll(t, rows); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s with %d:\n got %v\nwant %v", point, id, got, want)
		}
	}
	const scatter = "select * from prep_types where id > ? and (u is null or u >= ?)"
	want := directPrepared(t, scatter, 0, uint64(0))
	rows, err := db.Query(scatter, 0, uint64(0))
	if err != nil {
		t.Fatal(err)
	}
	got := scanAll(t, rows)
	slices.SortFunc(got[1:], func(a, b []string) int { return strings.Compare(strings.Join(a, ","), strings.Join(b, ",")) })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got %v\nwant %v", scatter, got, want)
	}

	// Prepared on the shard once, then only executed.
	st, err := db.Prepare(point)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.QueryRow(1).Scan(&n, new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any)); err != nil {
		t.Fatal(err)
	}
	prepares, executes := shardStatus(t, "Com_stmt_prepare"), shardStatus(t, "Com_stmt_execute")
	for range 10 {
		var id int
		if err := db.QueryRow("select id from prep_types where id = ?", 1).Scan(&id); err != nil || id != 1 {
			t.Fatalf("point select: %d, %v", id, err)
		}
	}
	// The shard status reads above are prepared statements of their own
	// (go-sql-driver prepares a query with arguments); these have none.
	if got := shardStatus(t, "Com_stmt_execute") - executes; got != 10 {
		t.Errorf("10 prepared point selects: the shards executed %d prepared statements, want 10", got)
	}
	if got := shardStatus(t, "Com_stmt_prepare") - prepares; got > 2 {
		// One prepare of the new text on the shard connection, one by
		// the gateway's prepare-time column lookup (prepare.go), at most.
		t.Errorf("10 prepared point selects: %d prepares on the shards, want at most 2", got)
	}
}

// TestPreparedSurvivesReconnectAndAlter: a client's prepared statement
// keeps working when the gateway's shard connections are killed under it
// (the new connections prepare it again) and when its table changes
// shape between executions, through the gateway or behind its back.
func TestPreparedSurvivesReconnectAndAlter(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "create table prep_alter (id bigint, a int, primary key (id))")
	waitFor(t, func() bool {
		_, err := db.Exec("insert into prep_alter (id, a) values (1, 10)")
		return err == nil
	})
	st, err := db.Prepare("select * from prep_alter where id = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	read := func(what string) []string {
		t.Helper()
		rows, err := st.Query(1)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got := scanAll(t, rows)
		if len(got) != 2 {
			t.Fatalf("%s: got %v, want one row", what, got)
		}
		return got[1]
	}
	if got := fmt.Sprint(read("first")); got != `["1" "10"]` {
		t.Fatalf("first execution: got %s", got)
	}

	// Kill every connection the gateway holds to the shards.
	killed := 0
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace != "service" || in.Type != topo.TabletPrimary {
			continue
		}
		sdb := shared.shardDB(t, "service", in.Shard)
		for _, row := range queryStrings(t, sdb, "select id from information_schema.processlist where user = ?", tablet.AppUser) {
			if _, err := sdb.Exec("kill connection " + row[0]); err == nil {
				killed++
			}
		}
	}
	if killed == 0 {
		t.Fatal("found no gateway connection to kill")
	}
	if got := fmt.Sprint(read("after the shard connections were killed")); got != `["1" "10"]` {
		t.Errorf("after %d shard connections were killed: got %s, want [1 10]", killed, got)
	}

	mustExec(t, db, "alter table prep_alter add column b varchar(5) default 'new'")
	if got := fmt.Sprint(read("after ALTER TABLE through the gateway")); got != `["1" "10" "new"]` {
		t.Errorf("after ALTER TABLE ADD COLUMN: got %s, want [1 10 new]", got)
	}
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace == "service" && in.Type == topo.TabletPrimary {
			mustExec(t, shared.shardDB(t, "service", in.Shard), "alter table prep_alter drop column a")
		}
	}
	if got := fmt.Sprint(read("after ALTER TABLE on the shards")); got != `["1" "new"]` {
		t.Errorf("after ALTER TABLE DROP COLUMN on the shards directly: got %s, want [1 new]", got)
	}
}

// TestPreparedShardStatementsBounded: a gateway keeps at most
// BackendConfig.PreparedStatements statements prepared on each shard
// connection, closing the least recently used, and closing the gateway
// frees them on the shards.
func TestPreparedShardStatementsBounded(t *testing.T) {
	mustExec(t, shared.db(t, "global", ""), "create table if not exists prep_bound (id bigint primary key)")
	before := globalStatus(t, "Prepared_stmt_count")
	srv := startSecondGateway(t, gateway.Config{Backend: gateway.BackendConfig{PoolSize: 1, PreparedStatements: 2}})
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/global", srv.Addr()))
	db.SetMaxOpenConns(1)
	closes := globalStatus(t, "Com_stmt_close")
	for i := range 5 {
		q := fmt.Sprintf("select id + %d from prep_bound where id > ?", i)
		rows, err := db.Query(q, 0)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows.Close()
	}
	// One shard connection of the global keyspace: its 2 statements, and
	// go-sql-driver's prepare-time column lookups come and go (prepare.go
	// closes them).
	if got := globalStatus(t, "Prepared_stmt_count") - before; got != 2 {
		t.Errorf("after 5 prepared statements through a gateway bounded to 2: %d statements prepared on the shard, want 2", got)
	}
	if got := globalStatus(t, "Com_stmt_close") - closes; got < 3 {
		t.Errorf("%d statements closed on the shard, want at least the 3 evicted", got)
	}
	db.Close()
	srv.Close()
	waitFor(t, func() bool { return globalStatus(t, "Prepared_stmt_count") == before })
}

// globalStatus reads a global status counter of keyspace global's primary.
func globalStatus(t *testing.T, name string) int {
	t.Helper()
	var n, v string
	if err := shared.shardDB(t, "global", "0").QueryRow("show global status like '"+name+"'").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	i, _ := strconv.Atoi(v)
	return i
}
