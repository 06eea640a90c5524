package planner

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestPlanAccess: every plan lists the tables it reads, writes or
// redefines with their keyspace, which the gateway checks against grants.
func TestPlanAccess(t *testing.T) {
	vs := loadVSchema(t)
	p := NewParser()
	for _, tc := range []struct {
		sql  string
		want []string // keyspace.table:kind:command
	}{
		{"select * from user u join orders o on u.id = o.user_id", []string{"service.user:1:SELECT", "service.orders:1:SELECT"}},
		{"insert into global.config (k, v) select k, v from global.config", []string{"global.config:2:INSERT", "global.config:1:SELECT"}},
		{"replace into global.config (k, v) values ('a', 'b')", []string{"global.config:2:REPLACE"}},
		{"update user set name = 'x' where id in (select user_id from orders)", []string{"service.user:2:UPDATE", "service.orders:1:SELECT"}},
		{"delete o from orders o join user u on u.id = o.user_id where u.id = 1", []string{"service.orders:2:DELETE", "service.user:1:SELECT"}},
		{"drop table orders", []string{"service.orders:3:DROP"}},
		{"alter table user add column x int", []string{"service.user:3:ALTER"}},
		{"create table newt (id bigint primary key)", []string{"service.newt:3:CREATE"}},
		{"show columns from orders", []string{"service.orders:1:SELECT"}},
		{"select * from information_schema.tables", nil},
		{"select * from mysql.user", []string{"mysql.user:1:SELECT"}},
		{"select 1", nil},
		{"call p(1)", []string{"global.:2:EXECUTE"}},
		{"drop procedure p", []string{"global.:3:ALTER ROUTINE"}},
	} {
		stmts, err := p.Parse(tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		target := Target{Keyspace: "service"}
		if strings.Contains(tc.sql, "procedure") || strings.HasPrefix(tc.sql, "call") {
			target.Keyspace = "global" // routines live in unsharded keyspaces
		}
		plan, err := Build(stmts[0], tc.sql, vs, target)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		var got []string
		for _, a := range plan.Access {
			got = append(got, fmt.Sprintf("%s.%s:%d:%s", a.Keyspace, a.Table, a.Kind, a.Command))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got access %q, want %q", tc.sql, got, tc.want)
		}
	}
}
