package planner

import (
	"context"
	"testing"
)

func TestPlanParamsAndArgs(t *testing.T) {
	vs := loadVSchema(t)
	stmts, err := NewParser().Parse("select * from user where id = ? and name = ?")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Build(stmts[0], "select * from user where id = ? and name = ?", vs, Target{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.ParamCount != 2 || plan.Type != StmtSelect {
		t.Fatalf("got ParamCount %d type %v, want 2 SELECT", plan.ParamCount, plan.Type)
	}
	vc := newFakeVCursor()
	if _, err := plan.Root.Execute(context.Background(), vc, []any{int64(1)}); err == nil {
		t.Errorf("one argument for two markers: want an error")
	}
	vc = newFakeVCursor()
	if _, err := plan.Root.Execute(context.Background(), vc, []any{"1", []byte("o'x")}); err != nil {
		t.Fatal(err)
	}
	if want := "ExecuteMulti service.-40: select * from `user` where `id` = '1' and `name` = 'o\\'x'"; len(vc.log) != 1 || vc.log[0] != want {
		t.Errorf("got %q, want [%q]", vc.log, want)
	}
}

// TestPlanLockingRead: a SELECT that takes row locks is marked, so the
// gateway never sends it to a resharding's read switch.
func TestPlanLockingRead(t *testing.T) {
	vs := loadVSchema(t)
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"select * from user where id = 1", false},
		{"select * from user where id = 1 for update", true},
		{"select * from user where id = 1 lock in share mode", true},
		{"select * from user where id = 1 for share", true},
		{"select id from user where id = 1 union select id from user where id = 2", false},
		{"update user set name = 'x' where id = 1", false},
	} {
		stmts, err := NewParser().Parse(tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		plan, err := Build(stmts[0], tc.sql, vs, Target{})
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if plan.LockingRead != tc.want {
			t.Errorf("%s: LockingRead %v, want %v", tc.sql, plan.LockingRead, tc.want)
		}
	}
}
