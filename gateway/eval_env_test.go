package gateway_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
)

// sessionConn runs every query on one connection, so that the session's
// SETs apply to them.
type sessionConn struct{ c *sql.Conn }

func (o sessionConn) Query(q string, args ...any) (*sql.Rows, error) {
	return o.c.QueryContext(context.Background(), q, args...)
}

func (o sessionConn) Exec(q string, args ...any) (sql.Result, error) {
	return o.c.ExecContext(context.Background(), q, args...)
}

// A client that sets div_precision_increment or group_concat_max_len gets
// from the gateway's own evaluation (divisions of merged aggregates,
// GROUP_CONCAT across shards) what one MariaDB gives it, warnings 1260
// included: the gateway reads the session's values, not MySQL's defaults.
func TestSessionSettingsReachGatewayEvaluation(t *testing.T) {
	sharded := shared.db(t, "service", "")
	plain := shared.db(t, "global", "")
	for _, db := range []*sql.DB{sharded, plain} {
		mustExec(t, db, "create table ev_t (id bigint primary key, a decimal(10,2), b int, n varchar(20))")
		for i := 1; i <= 40; i++ {
			mustExec(t, db, "insert into ev_t (id, a, b, n) values (?, ?, ?, ?)", i, fmt.Sprintf("%d.%02d", i*7%13, i*31%100), i%7, fmt.Sprintf("name-%02d-%s", i%5, "xyzw"[i%4:]))
		}
	}
	g, p := sessionConn{oneConn(t, sharded)}, sessionConn{oneConn(t, plain)}
	queries := []string{
		"select sum(a) / count(*), sum(b) / count(*), sum(a) / sum(b) from ev_t",
		"select b, sum(a) / count(*), round(sum(a) / 7, 20) from ev_t group by b order by b",
		"select b, count(*) from ev_t group by b having sum(a) / count(*) > 6.3 order by b",
		"select b, group_concat(n order by id) from ev_t group by b order by b",
		"select group_concat(distinct n order by n separator '; ') from ev_t",
	}
	for _, set := range []string{
		"",
		"set session div_precision_increment = 0",
		"set session div_precision_increment = 9",
		"set session div_precision_increment = 13",
		"set @@div_precision_increment = 30, group_concat_max_len = 30",
		"set session div_precision_increment = 60", // MySQL keeps 38
		"set session group_concat_max_len = 17",
		"set session group_concat_max_len = 100, div_precision_increment = default",
		"set session group_concat_max_len = default",
	} {
		if set != "" {
			mustExec(t, g, set)
			mustExec(t, p, set)
		}
		for _, q := range queries {
			got, want := queryStrings(t, g, q), queryStrings(t, p, q)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("after %q: %s\n got %v\nwant %v", set, q, got, want)
			}
			gw, pw := queryStrings(t, g, "show warnings"), queryStrings(t, p, "show warnings")
			if fmt.Sprint(gw) != fmt.Sprint(pw) {
				t.Errorf("after %q: %s: got warnings %v, want %v", set, q, gw, pw)
			}
		}
	}
}

// sql_select_limit cuts what the client gets from a SELECT without a
// LIMIT of its own, as one MariaDB does: applied at the gateway, never by
// the shards, whose partial groups and sorted runs it would cut (a group
// counted on one shard only, 12 rows for 3).
func TestSQLSelectLimitAtGateway(t *testing.T) {
	sharded := shared.db(t, "service", "")
	plain := shared.db(t, "global", "")
	for _, db := range []*sql.DB{sharded, plain} {
		mustExec(t, db, "create table sl_t (id bigint primary key, a int, n varchar(20))")
		for i := 1; i <= 40; i++ {
			mustExec(t, db, "insert into sl_t (id, a, n) values (?, ?, ?)", i, i%7, fmt.Sprintf("n%d", i%5))
		}
	}
	g, p := sessionConn{oneConn(t, sharded)}, sessionConn{oneConn(t, plain)}
	queries := []string{
		"select n, count(*) from sl_t group by n order by n",
		"select id from sl_t order by id",
		"select id from sl_t order by id limit 5",
		"select a, sum(id) from sl_t group by a order by sum(id) desc",
		"select count(*) from sl_t",
		"select id from sl_t where id = 7",
		"select id from sl_t where id < 10 union select a from sl_t order by 1",
		"select @@sql_select_limit",
	}
	for _, set := range []string{
		"set session sql_select_limit = 3",
		"set sql_select_limit = 0",
		"set @@sql_select_limit = 2 + 4",
		"set session sql_select_limit = default",
	} {
		mustExec(t, g, set)
		mustExec(t, p, set)
		for _, q := range queries {
			got, want := queryStrings(t, g, q), queryStrings(t, p, q)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("after %q: %s\n got %v\nwant %v", set, q, got, want)
			}
		}
	}
}
