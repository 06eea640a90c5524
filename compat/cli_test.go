package compat_test

import (
	"net"
	"reflect"
	"strings"
	"testing"
)

// mariadbArgs are the CLI's connection options for the gateway.
func mariadbArgs(t testing.TB, extra ...string) []string {
	t.Helper()
	host, port := shared.Get(t).HostPort()
	return append([]string{"-h" + host, "-P" + port, "-u" + user, "-p" + password}, extra...)
}

// TestMariaDBCLI: the mariadb client's status command (\s), SHOW WARNINGS
// and --show-warnings, and a multi-statement batch, in both keyspaces.
func TestMariaDBCLI(t *testing.T) {
	cli := need(t, "mariadb")
	for _, ks := range []string{unsharded, sharded} {
		t.Run(ks, func(t *testing.T) {
			script := `drop table if exists cli_t;
create table cli_t (id int primary key, v varchar(10));
insert into cli_t (id, v) values (1, 'a'), (2, 'b'), (3, 'c');
select id, v from cli_t order by id;
select 1/0 as x;
show warnings;
\s
`
			out := run(t, ".", script, cli, mariadbArgs(t, "--batch", ks)...)
			for _, want := range []string{
				"id\tv\n1\ta\n2\tb\n3\tc\n",
				"x\nNULL\nLevel\tCode\tMessage\nWarning\t1365\tDivision by 0\n",
				"Current database:\t" + ks + "\n",
				"Server version:\t\t10.11.0-MariaDB-shardgate",
				"Server characterset:\tutf8mb4\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("mariadb output lacks %q; got:\n%s", want, out)
				}
			}
			// The client's character set (from its handshake: the CLI takes
			// it from the locale) is the session's, as with MariaDB itself.
			in := shared.Get(t).Cluster.Primary(ks, shardOf(t, ks))
			host, port, _ := net.SplitHostPort(in.Mysqld.Addr())
			direct := run(t, ".", "", cli, "-h"+host, "-P"+port, "-uroot", "-e", "status", ks)
			for _, line := range []string{"Client characterset:", "Conn.  characterset:"} {
				if got, want := statusLine(out, line), statusLine(direct, line); got != want || want == "" {
					t.Errorf("status %q: got %q, want %q (MariaDB's)", line, got, want)
				}
			}
			// --show-warnings prints them after each statement.
			out = run(t, ".", "select 1/0 as x;\n", cli, mariadbArgs(t, "--batch", "--show-warnings", ks)...)
			if !strings.Contains(out, "Warning (Code 1365): Division by 0") {
				t.Errorf("--show-warnings: got %q", out)
			}
		})
	}
}

// TestMariaDBDump dumps each keyspace through the gateway, drops its
// tables, restores the dump through the gateway with the mariadb CLI and
// finds every row back, with the flags that were needed before schema
// tracking (--skip-lock-tables, --skip-add-locks, --complete-insert); they
// still work. TestDumpRoundTrip covers the default flags.
func TestMariaDBDump(t *testing.T) {
	cli, dump := need(t, "mariadb"), need(t, "mariadb-dump")
	for _, ks := range []string{unsharded, sharded} {
		t.Run(ks, func(t *testing.T) {
			db := shared.db(t, ks, "")
			mustExec(t, db, "drop table if exists dump_a")
			mustExec(t, db, "drop table if exists dump_b")
			mustExec(t, db, "create table dump_a (id bigint primary key, name varchar(20), b varbinary(8), d datetime(6))")
			mustExec(t, db, "create table dump_b (k bigint primary key, n decimal(10,3))")
			mustExec(t, db, "insert into dump_a (id, name, b, d) values (1, 'x\\'y', 0x00ff, '2024-01-02 03:04:05.000006'), (2, NULL, NULL, NULL), (3, '\U0001F600', '', '1999-12-31 23:59:59')")
			mustExec(t, db, "insert into dump_b (k, n) values (1, 1.5), (2, -2.25), (3, 0)")
			wantA := queryStrings(t, db, "select id, name, hex(b), d from dump_a order by id")
			wantB := queryStrings(t, db, "select k, n from dump_b order by k")

			sql := run(t, ".", "", dump, mariadbArgs(t, "--skip-lock-tables", "--skip-add-locks", "--complete-insert", ks, "dump_a", "dump_b")...)
			for _, want := range []string{"CREATE TABLE `dump_a`", "INSERT INTO `dump_b` (`k`, `n`) VALUES"} {
				if !strings.Contains(sql, want) {
					t.Fatalf("dump lacks %q:\n%s", want, sql)
				}
			}
			mustExec(t, db, "drop table dump_a")
			mustExec(t, db, "drop table dump_b")
			run(t, ".", sql, cli, mariadbArgs(t, ks)...)
			if got := queryStrings(t, db, "select id, name, hex(b), d from dump_a order by id"); !reflect.DeepEqual(got, wantA) {
				t.Errorf("dump_a after restore: got %v, want %v", got, wantA)
			}
			if got := queryStrings(t, db, "select k, n from dump_b order by k"); !reflect.DeepEqual(got, wantB) {
				t.Errorf("dump_b after restore: got %v, want %v", got, wantB)
			}
		})
	}
}

// statusLine is the line of the CLI's status output that starts with prefix.
func statusLine(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// shardOf is the first shard of a keyspace.
func shardOf(t testing.TB, ks string) string {
	t.Helper()
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace == ks {
			return in.Shard
		}
	}
	return ""
}
