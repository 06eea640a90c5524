package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Derived tables, CTEs and UNIONs in derived tables that are not
// co-located are merged into the outer query (planner/build_derived*.go):
// their answers are those computed here from the rows inserted, a CTE read
// twice is joined at the gateway, and what cannot be merged is aggregated
// at the gateway over the derived table's rows.
func TestDerivedTablesAcrossShards(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "create table dv_user (id bigint not null, name varchar(10), age int, primary key (id))")
	mustExec(t, db, "create table dv_order (user_id bigint not null, id bigint not null, amount int, primary key (user_id, id))")
	t.Cleanup(func() {
		mustExec(t, db, "drop table dv_user")
		mustExec(t, db, "drop table dv_order")
	})
	names := []string{"ann", "bob", "cy", "dee"}
	perName := map[string]int{}
	var values, orders []string
	for id := 1; id <= 30; id++ {
		name := names[(id*id)%len(names)]
		perName[name]++
		values = append(values, fmt.Sprintf("(%d, '%s', %d)", id, name, 10+id))
		orders = append(orders, fmt.Sprintf("(%d, %d, %d)", id, 100+id, id*3))
	}
	mustExec(t, db, "insert into dv_user (id, name, age) values "+strings.Join(values, ", "))
	mustExec(t, db, "insert into dv_order (user_id, id, amount) values "+strings.Join(orders, ", "))

	// A grouped derived table read with an outer WHERE and ORDER BY.
	var want []string
	for _, n := range names {
		if perName[n] > 5 {
			want = append(want, fmt.Sprintf("%s=%d", n, perName[n]))
		}
	}
	slices.Sort(want)
	var got []string
	for _, r := range queryStrings(t, db, "select x.name, x.c from (select name, count(*) as c from dv_user group by name) x where x.c > 5 order by x.name") {
		got = append(got, r[0]+"="+r[1])
	}
	if !slices.Equal(got, want) {
		t.Errorf("grouped derived table: got %v, want %v", got, want)
	}

	// A CTE read twice, joined at the gateway on a column that is no vindex.
	q := "with x as (select id, name from dv_user where age > 20) select b.id from x a join x b on a.name = b.name where a.id = 12 order by b.id"
	want = nil
	for id := 11; id <= 30; id++ {
		if names[(id*id)%len(names)] == names[(12*12)%len(names)] {
			want = append(want, fmt.Sprint(id))
		}
	}
	if got := column(queryStrings(t, db, q)); !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", q, got, want)
	}

	// UNION ALL inside a derived table, filtered and ordered as a whole.
	q = "select x.id from (select id from dv_user union all select id from dv_order) x where x.id < 4 or x.id > 128 order by id"
	want = []string{"1", "2", "3", "129", "130"}
	if got := column(queryStrings(t, db, q)); !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", q, got, want)
	}

	// UNION branches with their own ORDER BY and LIMIT.
	q = "(select id from dv_user order by id desc limit 2) union all (select user_id from dv_order order by amount limit 2) order by id"
	want = []string{"1", "2", "29", "30"}
	if got := column(queryStrings(t, db, q)); !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", q, got, want)
	}

	// VEXPLAIN shows the merged plan: the gateway's aggregation over the
	// shards' groups.
	plan := queryStrings(t, db, "vexplain plan select * from (select name, count(*) as c from dv_user group by name) x")
	if len(plan) != 1 || !strings.Contains(plan[0][0], `"Aggregate"`) {
		t.Errorf("vexplain plan of a grouped derived table: got %v, want an Aggregate over the shards", plan)
	}

	// Not mergeable: aggregated at the gateway over the derived table's
	// rows (engine.AggregateRows), one row per name.
	q = "select count(*) from (select name from dv_user group by name) x"
	if got := column(queryStrings(t, db, q)); !slices.Equal(got, []string{fmt.Sprint(len(perName))}) {
		t.Errorf("%s: got %v, want [%d]", q, got, len(perName))
	}
}

func column(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	return out
}
