package gateway_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// ownerShards finds, directly on the shards, which shard holds each id.
func ownerShards(t *testing.T, table string, ids []int) map[int]string {
	t.Helper()
	owner := map[int]string{}
	for _, sh := range serviceShards {
		db := shared.shardDB(t, "service", sh)
		for _, row := range queryStrings(t, db, "select id from "+table) {
			var id int
			fmt.Sscan(row[0], &id)
			owner[id] = sh
		}
	}
	for _, id := range ids {
		if owner[id] == "" {
			t.Fatalf("id %d is on no shard", id)
		}
	}
	return owner
}

func TestVExplain(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "create table vx_user (id bigint not null, name varchar(20), primary key (id))")
	for i := 1; i <= 20; i++ {
		mustExec(t, db, "insert into vx_user (id, name) values (?, ?)", i, fmt.Sprintf("n%d", i%4))
	}
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8}
	owner := ownerShards(t, "vx_user", ids)

	t.Run("queries of a point select", func(t *testing.T) {
		rows := queryStrings(t, db, "vexplain queries select id, name from vx_user where id = 5")
		if len(rows) != 1 {
			t.Fatalf("got %d shard queries %v, want 1", len(rows), rows)
		}
		if rows[0][1] != "service" || rows[0][2] != owner[5] || !strings.Contains(rows[0][3], "= 5") {
			t.Fatalf("got %v, want keyspace service, shard %s, a query with = 5", rows[0], owner[5])
		}
	})

	t.Run("queries of an IN list", func(t *testing.T) {
		rows := queryStrings(t, db, "VEXPLAIN QUERIES select id from vx_user where id in (1, 2, 3, 4, 5, 6, 7, 8)")
		want := map[string][]string{}
		for _, id := range ids {
			want[owner[id]] = append(want[owner[id]], fmt.Sprint(id))
		}
		if len(rows) != len(want) {
			t.Fatalf("got %d shard queries %v, want one per owning shard (%d)", len(rows), rows, len(want))
		}
		for _, r := range rows {
			vals, ok := want[r[2]]
			if !ok {
				t.Fatalf("query sent to shard %s, which owns none of the ids: %v", r[2], r)
			}
			in := r[3][strings.Index(r[3], "in (")+4:]
			in = in[:strings.IndexByte(in, ')')]
			got := strings.Split(strings.ReplaceAll(in, " ", ""), ",")
			sort.Strings(got)
			sort.Strings(vals)
			if !slices.Equal(got, vals) {
				t.Fatalf("shard %s got values %v, want only its own %v (query %s)", r[2], got, vals, r[3])
			}
		}
	})

	t.Run("queries of an IN subquery reach only the owning shards", func(t *testing.T) {
		rows := queryStrings(t, db, "vexplain queries select name from vx_user where id in (select id from vx_user where name = 'n1' and id < 9)")
		// ids 1 and 5 have name n1: the subquery scatters, the outer query
		// goes to their shards only.
		var outer []string
		for _, r := range rows {
			if strings.Contains(r[3], "`id` in (") {
				outer = append(outer, r[2])
			}
		}
		want := map[string]bool{owner[1]: true, owner[5]: true}
		if len(outer) != len(want) {
			t.Fatalf("outer queries on %v, want one per shard of ids 1 and 5 %v (all: %v)", outer, want, rows)
		}
		for _, sh := range outer {
			if !want[sh] {
				t.Fatalf("outer query on shard %s, which holds neither id 1 nor 5: %v", sh, rows)
			}
		}
	})

	t.Run("plan", func(t *testing.T) {
		rows := queryStrings(t, db, "vexplain plan select * from vx_user where id = 3")
		var plan map[string]any
		if err := json.Unmarshal([]byte(rows[0][0]), &plan); err != nil {
			t.Fatalf("plan is not JSON: %v\n%s", err, rows[0][0])
		}
		if plan["OperatorType"] != "Route" || plan["Variant"] != "EqualUnique" {
			t.Fatalf("got plan %s, want an EqualUnique Route", rows[0][0])
		}
		// The default mode is PLAN, and nothing ran: a write is explained only.
		rows = queryStrings(t, db, "vexplain delete from vx_user where id = 20")
		if !strings.Contains(rows[0][0], `"Delete"`) && !strings.Contains(rows[0][0], "delete") {
			t.Fatalf("got %s, want a delete plan", rows[0][0])
		}
		if n := queryStrings(t, db, "select count(*) from vx_user where id = 20")[0][0]; n != "1" {
			t.Fatalf("VEXPLAIN PLAN deleted the row: count %s", n)
		}
	})

	t.Run("queries refuses a write unless EXECUTE", func(t *testing.T) {
		_, err := db.Exec("vexplain queries update vx_user set name = 'x' where id = 1")
		wantMySQLError(t, err, 1235, "vexplain queries update")
		rows := queryStrings(t, db, "vexplain queries execute update vx_user set name = 'x' where id = 1")
		if len(rows) != 1 || rows[0][2] != owner[1] {
			t.Fatalf("got %v, want one update on shard %s", rows, owner[1])
		}
		if got := queryStrings(t, db, "select name from vx_user where id = 1")[0][0]; got != "x" {
			t.Fatalf("got name %q after VEXPLAIN QUERIES EXECUTE, want x", got)
		}
	})

	t.Run("all", func(t *testing.T) {
		rows := queryStrings(t, db, "vexplain all select name, count(*) from vx_user group by name")
		var out struct {
			Plan    map[string]any
			Queries []struct {
				Shard   string
				Query   string
				Explain []map[string]string
			}
		}
		if err := json.Unmarshal([]byte(rows[0][0]), &out); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, rows[0][0])
		}
		if len(out.Queries) != 4 {
			t.Fatalf("got %d shard queries, want 4:\n%s", len(out.Queries), rows[0][0])
		}
		for _, q := range out.Queries {
			if len(q.Explain) == 0 || q.Explain[0]["table"] != "vx_user" {
				t.Fatalf("shard %s: got EXPLAIN %v, want rows naming vx_user", q.Shard, q.Explain)
			}
		}
	})

	t.Run("keys", func(t *testing.T) {
		rows := queryStrings(t, db, "vexplain keys select name, count(*) from vx_user u where u.id in (1, 2) and name like 'n%' group by name order by name")
		var k map[string]any
		if err := json.Unmarshal([]byte(rows[0][0]), &k); err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(k["filterColumns"], k["groupingColumns"])
		if got != "[vx_user.id in vx_user.name like] [vx_user.name]" {
			t.Fatalf("got %s", rows[0][0])
		}
	})
}
