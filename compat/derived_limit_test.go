package compat_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
)

// TestDerivedTableRowLimit: a derived table merged into its outer query
// holds at the gateway only what the merged plan holds, within
// MaxBufferedRows: a grouped derived table with more groups than the limit
// gets error 1041 and the gateway goes on serving; a plain one streams
// whatever its size.
func TestDerivedTableRowLimit(t *testing.T) {
	addr := startGateway(t, func(c *gateway.Config) { c.MaxBufferedRows = 50 })
	db := gatewaytest.Open(t, fmt.Sprintf("%s:%s@tcp(%s)/%s", user, password, addr, sharded))
	mustExec(t, db, "drop table if exists derived_limit_t")
	mustExec(t, db, "create table derived_limit_t (id bigint primary key, name varchar(10), v int)")
	t.Cleanup(func() { mustExec(t, db, "drop table derived_limit_t") })
	var values []string
	for i := 1; i <= 200; i++ {
		values = append(values, fmt.Sprintf("(%d, 'n%d', %d)", i, i, i%7))
	}
	mustExec(t, db, "insert into derived_limit_t (id, name, v) values "+strings.Join(values, ", "))

	_, err := db.Query("select * from (select name, count(*) as c from derived_limit_t group by name) x where x.c > 0")
	wantMySQLError(t, err, 1041)

	if got := queryStrings(t, db, "select x.id from (select id, v from derived_limit_t where v >= 0) x"); len(got) != 200 {
		t.Fatalf("plain derived table: got %d rows, want 200", len(got))
	}
	rows := queryStrings(t, db, "with x as (select v, count(*) as c from derived_limit_t group by v) select v, c from x order by v")
	total := 0
	for _, r := range rows {
		var c int
		fmt.Sscan(r[1], &c)
		total += c
	}
	if len(rows) != 7 || total != 200 {
		t.Fatalf("after the refusal: got %v, want 7 groups of 200 rows", rows)
	}
}
