package compat_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
)

// TestSemiJoinRowLimit: a semi-join at the gateway reads its outer side
// whole, so past MaxBufferedRows the client gets error 1041, not a crash
// or a hang, and the gateway goes on serving; a small one answers.
func TestSemiJoinRowLimit(t *testing.T) {
	addr := startGateway(t, func(c *gateway.Config) { c.MaxBufferedRows = 50 })
	db := gatewaytest.Open(t, fmt.Sprintf("%s:%s@tcp(%s)/%s", user, password, addr, sharded))
	mustExec(t, db, "drop table if exists sj_limit_a")
	mustExec(t, db, "drop table if exists sj_limit_b")
	mustExec(t, db, "create table sj_limit_a (id bigint primary key, v int)")
	mustExec(t, db, "create table sj_limit_b (id bigint primary key, v int)")
	var values []string
	for i := 1; i <= 200; i++ {
		values = append(values, fmt.Sprintf("(%d, %d)", i, i%7))
	}
	mustExec(t, db, "insert into sj_limit_a (id, v) values "+strings.Join(values, ", "))
	mustExec(t, db, "insert into sj_limit_b (id, v) values "+strings.Join(values, ", "))

	// 200 outer rows are more than the gateway may hold.
	_, err := db.Query("select a.id from sj_limit_a a where not exists (select 1 from sj_limit_b b where b.id = a.v)")
	wantMySQLError(t, err, 1041)

	// Ten outer rows, each inner query routed to one shard: 1..9 have a
	// b row with id = v (v is id % 7, so not 0).
	got := queryStrings(t, db, "select a.id from sj_limit_a a where exists (select 1 from sj_limit_b b where b.id = a.v) and a.id <= 10 order by a.id")
	var ids []string
	for _, r := range got {
		ids = append(ids, r[0])
	}
	if want := "1 2 3 4 5 6 8 9 10"; strings.Join(ids, " ") != want {
		t.Errorf("semi-join under the limit: got %v, want %s", ids, want)
	}
}
