package main

import (
	"strings"
	"testing"
)

// TestExplainOfflineGatewayConstructs: shardctl explain shows, without a
// topology, the plans of what the gateway evaluates across shards.
func TestExplainOfflineGatewayConstructs(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"select name, sum(id) / count(*) from user group by name",
			[]string{`"Computed"`, "sum(`id`) / count(1)"}},
		{"select group_concat(name order by id separator ';') from user",
			[]string{"group_concat(0) of", `separator \";\"`, "group by `id`,binary `name`"}},
		{"select count(distinct name, email) from user",
			[]string{"count_distinct(0) of", "group by `name`,`email`"}},
		{"insert into orders (user_id, id, amount) select id, id, 1 from user where name = 'x'",
			[]string{`"OperatorType": "Insert"`, `"Variant": "Select"`, "insert into `orders`"}},
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
