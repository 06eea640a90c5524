package compat_test

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/vindex"
)

// plainMariaDB starts a MariaDB of its own, not part of any keyspace: the
// other end of the dump round trip. It is stopped when the test ends.
func plainMariaDB(t *testing.T) *tablet.Mysqld {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m := tablet.NewMysqld(tablet.MysqldConfig{Dir: t.TempDir()})
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop(context.Background()) })
	return m
}

// plainArgs are the CLI's connection options for a plain MariaDB.
func plainArgs(m *tablet.Mysqld, extra ...string) []string {
	host, port, _ := net.SplitHostPort(m.Addr())
	return append([]string{"-h" + host, "-P" + port, "-uroot"}, extra...)
}

// roundTripTables are the tables the round trip carries, with the query
// that reads all of a table's rows in a comparable form.
var roundTripTables = map[string]string{
	"rt_items": "select id, name, note, price, d, hex(b) from rt_items order by id",
	"rt_kv":    "select k, v from rt_kv order by k",
}

// TestDumpRoundTrip: a mariadb-dump --databases of a plain MariaDB
// database, at default flags (column-less multi-row INSERTs, LOCK TABLES,
// DISABLE KEYS, /*!40101 SET ... */ and session variables), loads into the
// sharded keyspace of the same name through the gateway with the mariadb
// client at default flags, every row on the shard its vindex names; and a
// mariadb-dump of the keyspace through the gateway at default flags
// restores into a plain MariaDB with the same rows.
func TestDumpRoundTrip(t *testing.T) {
	cli, dump := need(t, "mariadb"), need(t, "mariadb-dump")
	plain := plainMariaDB(t)
	pdb := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/", plain.Addr()))
	gdb := shared.db(t, sharded, "")
	for table := range roundTripTables {
		mustExec(t, gdb, "drop table if exists "+table)
	}
	t.Cleanup(func() {
		for table := range roundTripTables {
			gdb.Exec("drop table if exists " + table)
		}
	})

	mustExec(t, pdb, "create database "+sharded)
	mustExec(t, pdb, "create table "+sharded+".rt_items (id bigint primary key, name varchar(40) not null, note text, price decimal(10,2), d datetime(6), b varbinary(16), key by_name (name)) engine=InnoDB default charset=utf8mb4")
	mustExec(t, pdb, "create table "+sharded+".rt_kv (k bigint primary key, v int)")
	var rows []string
	for i := 1; i <= 400; i++ {
		note := "NULL"
		if i%3 != 0 {
			note = fmt.Sprintf("'line %d\\nquote \\' backslash \\\\ tab \\t'", i)
		}
		rows = append(rows, fmt.Sprintf("(%d, 'item-%d-\U0001F600', %s, %d.%02d, '2024-01-02 03:04:05.%06d', 0x00ff%04x)", i, i, note, i, i%100, i, i))
	}
	mustExec(t, pdb, "insert into "+sharded+".rt_items values "+strings.Join(rows, ","))
	mustExec(t, pdb, "insert into "+sharded+".rt_kv values (1, 10), (2, NULL), (3, -3), (1000000, 7)")
	want := map[string][][]string{}
	for table, q := range roundTripTables {
		want[table] = queryStrings(t, gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/%s", plain.Addr(), sharded)), q)
	}

	// Plain MariaDB → keyspace, through the gateway.
	sql := run(t, ".", "", dump, plainArgs(plain, "--databases", sharded)...)
	for _, form := range []string{"LOCK TABLES `rt_items` WRITE", "INSERT INTO `rt_items` VALUES", "/*!40000 ALTER TABLE `rt_items` DISABLE KEYS */", "SET @OLD_CHARACTER_SET_CLIENT"} {
		if !strings.Contains(sql, form) {
			t.Fatalf("the dump lacks %q (what this test is about):\n%.3000s", form, sql)
		}
	}
	run(t, ".", sql, cli, mariadbArgs(t)...)
	for table, q := range roundTripTables {
		if got := queryStrings(t, gdb, q); !reflect.DeepEqual(got, want[table]) {
			t.Errorf("%s through the gateway after loading the dump: got %d rows, want %d (first got %v, first want %v)", table, len(got), len(want[table]), first(got), first(want[table]))
		}
	}
	checkPlacement(t, "rt_items", "id", 400)
	checkPlacement(t, "rt_kv", "k", 4)

	// Keyspace → plain MariaDB: dump through the gateway (default flags,
	// which lock the tables READ LOCAL, then --single-transaction, which
	// uses a consistent-snapshot transaction and savepoints), restore
	// directly.
	for _, flags := range [][]string{nil, {"--single-transaction"}} {
		mustExec(t, pdb, "drop database if exists "+sharded)
		sql = run(t, ".", "", dump, mariadbArgs(t, append(flags, "--databases", sharded)...)...)
		run(t, ".", sql, cli, plainArgs(plain)...)
		restored := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/%s", plain.Addr(), sharded))
		for table, q := range roundTripTables {
			if got := queryStrings(t, restored, q); !reflect.DeepEqual(got, want[table]) {
				t.Errorf("%s in the plain MariaDB restored from the gateway's dump %v: got %d rows, want %d (first got %v, first want %v)", table, flags, len(got), len(want[table]), first(got), first(want[table]))
			}
		}
	}
}

func first(rows [][]string) []string {
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}

// checkPlacement reads a table on each shard of the sharded keyspace
// directly: n rows in all, each on the shard its hash vindex value names.
func checkPlacement(t *testing.T, table, column string, n int) {
	t.Helper()
	h, err := vindex.New("hash", "hash", nil)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace != sharded || in.Type != "primary" {
			continue
		}
		kr, err := vindex.ParseKeyRange(in.Shard)
		if err != nil {
			t.Fatal(err)
		}
		db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/%s", in.Mysqld.Addr(), sharded))
		for _, row := range queryStrings(t, db, fmt.Sprintf("select %s from %s", column, table)) {
			var id int64
			fmt.Sscan(row[0], &id)
			ksid, err := h.(vindex.Functional).Map(id)
			if err != nil {
				t.Fatal(err)
			}
			if !kr.Contains(ksid) {
				t.Errorf("%s %s=%d is on shard %s, which does not hold its keyspace id", table, column, id, in.Shard)
			}
			total++
		}
	}
	if total != n {
		t.Errorf("%s: %d rows on the shards, want %d", table, total, n)
	}
}
