package planner

import (
	"reflect"
	"testing"
)

func TestAppendNormalized(t *testing.T) {
	cases := []struct {
		sql  string
		want string // "" means not normalised (ok false)
		args []any
	}{
		// sysbench's statements
		{"SELECT c FROM sbtest1 WHERE id=5", "SELECT c FROM sbtest1 WHERE id=?", []any{int64(5)}},
		{"SELECT c FROM sbtest1 WHERE id BETWEEN 10 AND 109", "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?", []any{int64(10), int64(109)}},
		{"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 1 AND 100", "SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?", []any{int64(1), int64(100)}},
		{"SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c", "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c", []any{int64(1), int64(100)}},
		{"UPDATE sbtest1 SET k=k+1 WHERE id=42", "UPDATE sbtest1 SET k=k+1 WHERE id=?", []any{int64(42)}},
		{"UPDATE sbtest1 SET c='abc' WHERE id=42", "UPDATE sbtest1 SET c=? WHERE id=?", []any{"abc", int64(42)}},
		{"DELETE FROM sbtest1 WHERE id=7", "DELETE FROM sbtest1 WHERE id=?", []any{int64(7)}},
		{"INSERT INTO sbtest1 (id, k, c, pad) VALUES (7, 3, 'x', 'y')", "INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)", []any{int64(7), int64(3), "x", "y"}},
		{"insert into t (a) values (1), (2)", "insert into t (a) values (?), (?)", []any{int64(1), int64(2)}},
		// IN lists, LIMIT, comparisons
		{"select id from t where id in (1, 2, 3)", "select id from t where id in (?, ?, ?)", []any{int64(1), int64(2), int64(3)}},
		{"select id from t where a >= 1 and b <> 'q' limit 10", "select id from t where a >= ? and b <> ? limit ?", []any{int64(1), "q", int64(10)}},
		{"select id from t limit 5, 10", "select id from t limit ?, ?", []any{int64(5), int64(10)}},
		{"select id from t where x in (select y from u where z = 4)", "select id from t where x in (select y from u where z = ?)", []any{int64(4)}},
		{"select id from t where id = 18446744073709551615", "select id from t where id = ?", []any{uint64(18446744073709551615)}},
		// escapes are undone: the argument is the value
		{`select 1 from t where a = 'it''s' and b = 'x\ny'`, "select 1 from t where a = ? and b = ?", []any{"it's", "x\ny"}},
		{`select 1 from t where a = 'a\%b'`, "select 1 from t where a = ?", []any{`a\%b`}},
		// left alone
		{"select 1, 'a' from t where id = 1", "select 1, 'a' from t where id = ?", []any{int64(1)}},
		{"select a from t group by 1 order by 1", "select a from t group by 1 order by 1", nil},
		{"select a from t where d > now() - interval 5 day", "select a from t where d > now() - interval 5 day", nil},
		{"select a from t where a = 1.5 and b = 1e3 and c = 0x1f", "select a from t where a = 1.5 and b = 1e3 and c = 0x1f", nil},
		{"select a from t where a = -5", "select a from t where a = -5", nil},
		{"select a from t where f(1, 'x') = 2", "select a from t where f(1, 'x') = ?", []any{int64(2)}},
		{"select a from t where a = 99999999999999999999999", "select a from t where a = 99999999999999999999999", nil},
		{"select `a` from `t` where `id` = 3", "select `a` from `t` where `id` = ?", []any{int64(3)}},
		{"select a from t where b like 'x%'", "select a from t where b like 'x%'", nil},
		// not normalised at all
		{"select a from t where b = _utf8mb4'x'", "", nil},
		{"select a from t where b = x'ff'", "", nil},
		{`select a from t where b = "x"`, "", nil},
		{"select a from t where b = 1; select 2", "", nil},
		{"select /*+ hint */ a from t where b = 1", "", nil},
		{"select a from t where b = 1 -- c", "", nil},
		{"select a from t where b = 1 # c", "", nil},
		{"select a from t where b = ?", "", nil},
		{"set @a = 1", "", nil},
		{"show tables", "", nil},
		{"create table t (a int default 1)", "", nil},
		{"select a from t where b = 'unterminated", "", nil},
		{"select a from t where (b = 1", "", nil},
	}
	for _, c := range cases {
		got, args, ok := AppendNormalized(nil, c.sql, nil)
		if c.want == "" {
			if ok {
				t.Errorf("AppendNormalized(%q) = %q, %v; want not normalised", c.sql, got, args)
			}
			continue
		}
		if !ok || string(got) != c.want || !reflect.DeepEqual(args, c.args) {
			t.Errorf("AppendNormalized(%q)\n got %q %#v ok=%v\nwant %q %#v", c.sql, got, args, ok, c.want, c.args)
		}
	}
}

// TestNormalizedPlansParse checks that the planner plans every normalised
// sysbench statement with one argument per marker.
func TestNormalizedPlansParse(t *testing.T) {
	vs := loadVSchema(t)
	for _, sql := range []string{
		"select id, name from user where id = 5",
		"select id from user where id in (1, 2, 3)",
		"select id from user where id between 1 and 10 order by id limit 3",
		"update user set name = 'x' where id = 9",
		"delete from user where id = 9",
	} {
		norm, args, ok := AppendNormalized(nil, sql, nil)
		if !ok {
			t.Fatalf("%q not normalised", sql)
		}
		stmts, err := NewParser().Parse(string(norm))
		if err != nil {
			t.Fatalf("parse %q: %v", norm, err)
		}
		plan, err := Build(stmts[0], string(norm), vs, Target{})
		if err != nil {
			t.Fatalf("build %q: %v", norm, err)
		}
		if plan.ParamCount != len(args) {
			t.Errorf("%q: plan has %d params, normaliser gave %d args", norm, plan.ParamCount, len(args))
		}
	}
}

func BenchmarkAppendNormalized(b *testing.B) {
	buf := make([]byte, 0, 256)
	args := make([]any, 0, 4)
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		buf, args, ok = AppendNormalized(buf[:0], "SELECT c FROM sbtest1 WHERE id=5012", args[:0])
		if !ok {
			b.Fatal("not normalised")
		}
	}
}
