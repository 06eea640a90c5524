package main

import (
	"strings"
	"testing"
)

// TestExplainOfflineSemiJoin: shardctl explain shows, without a topology,
// the semi-join plans of subqueries that are not co-located and the
// subqueries run before an UPDATE or DELETE.
func TestExplainOfflineSemiJoin(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"select u.id from user u where not exists (select 1 from orders o where o.amount = u.id)",
			[]string{`"OperatorType": "SemiJoin"`, `"NOT EXISTS"`, "select 1 from `orders` as `o` where `o`.`amount` = ? limit 1"}},
		{"select u.id, (select max(o.amount) from orders o where o.id = u.id) from user u",
			[]string{`"OperatorType": "SemiJoin"`, `"scalar column 1"`, "null as `(select max(o.amount) from orders o where o.id = u.id)`"}},
		{"delete from user where name in (select id from orders where amount > 5)",
			[]string{`"OperatorType": "UncorrelatedSubquery"`, `"OperatorType": "Delete"`}},
	} {
		out, errs, code := offline(t, "--keyspace", "service", "--sql", tc.sql)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.sql, code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: got:\n%s\nwant it to contain %s", tc.sql, out, w)
			}
		}
	}
}
