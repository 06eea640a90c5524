package planner

import (
	"context"
	"fmt"
	"testing"

	"github.com/shardgate/shardgate/engine"
)

func TestKeys(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"select name from user where id = 1 and age > 3",
			"SELECT tables [user] group [] join [] filter [user.age > user.id =] order []"},
		{"select u.name, count(*) from user u join orders o on u.id = o.user_id where o.amount between 1 and 5 group by u.name order by u.name",
			"SELECT tables [orders user] group [user.name] join [orders.user_id = user.id =] filter [orders.amount between] order [user.name]"},
		{"update user set name = 'x' where id in (1, 2) and name is null",
			"UPDATE tables [user] group [] join [] filter [user.id in user.name is null] order []"},
		{"delete from orders where note like 'a%'",
			"DELETE tables [orders] group [] join [] filter [orders.note like] order []"},
	} {
		stmts, err := NewParser().Parse(tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		k := Keys(stmts[0])
		got := fmt.Sprintf("%s tables %v group %v join %v filter %v order %v", k.StatementType, k.TableNames, k.GroupingColumns, k.JoinColumns, k.FilterColumns, k.OrderColumns)
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.sql, got, tc.want)
		}
	}
}

func TestRecorderAndOfflineCursor(t *testing.T) {
	vs := loadVSchema(t)
	sql := "select name, count(*) from user where id in (1, 2, 3) group by name"
	stmts, err := NewParser().Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Build(stmts[0], sql, vs, Target{Keyspace: "service"})
	if err != nil {
		t.Fatal(err)
	}
	oc := &OfflineVCursor{ShardMap: map[string][]engine.ShardRange{"service": mustShards("-40", "40-80", "80-c0", "c0-")}}
	rec := engine.NewRecorder(oc)
	r, err := plan.Root.Execute(context.Background(), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 0 || len(r.Fields) != 2 {
		t.Fatalf("got %d rows, %d fields; want no rows and 2 fields", len(r.Rows), len(r.Fields))
	}
	q := rec.Queries()
	if len(q) != 2 || q[0].Shard != "-40" || q[1].Shard != "40-80" {
		t.Fatalf("got %+v, want the IN list's two shards", q)
	}
}
