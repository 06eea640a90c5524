package main

import (
	"strings"
	"testing"
)

// TestExplainOfflineExpressionsOverJoins: shardctl explain shows, without
// a topology, the plans of gateway joins that evaluate expressions and
// conditions over the joined rows, with the queries their first stage
// sends (the type probe included).
func TestExplainOfflineExpressionsOverJoins(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"select u.id, u.age + o.amount from user u join orders o on u.name = o.note",
			[]string{`"OperatorType": "Projection"`, "where 1 != 1", "select `u`.`id`,`u`.`age`,`u`.`name`,weight_string(`u`.`name`) from `user` as `u`"}},
		{"select u.id from user u left join orders o on u.name = o.note where o.id is null",
			[]string{`"OperatorType": "Filter"`, `"Predicate": "` + "`o`.`id` is null" + `"`}},
		{"select u.id, o.id from user u join orders o on u.age > o.amount",
			[]string{`"Cross": true`, `"On": "` + "`u`.`age` \\u003e `o`.`amount`" + `"`}},
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
