package planner

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/shardgate/shardgate/engine"
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
		// a comparison inside a select-list function is part of the column's name
		{"select if(count(*) > 0, 1, 2) from t where id = 1", "select if(count(*) > 0, 1, 2) from t where id = ?", []any{int64(1)}},
		// and so is a select-list subquery's text: MySQL names the column
		// `(select b from u where c = 4)`, so a cached plan must not serve c = 5
		{"select a, (select b from u where c = 4) from t", "select a, (select b from u where c = 4) from t", nil},
		{"select a, 1 + (select b from u where c = 4) from t where id = 2", "select a, 1 + (select b from u where c = 4) from t where id = ?", []any{int64(2)}},
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

// FuzzAppendNormalized: putting the extracted literals back into the
// normalised text gives a statement that parses to the same thing as the
// original, for every statement the normaliser accepts.
func FuzzAppendNormalized(f *testing.F) {
	for _, s := range []string{
		"SELECT c FROM sbtest1 WHERE id=5",
		"select id from t where id in (1, 2, 3) and b between 4 and 'x' limit 2, 3",
		"insert into t (a, b) values (1, 'it''s'), (2, 'a\\nb')",
		"update t set a = 'q?', b = 5 where id = 7 order by 1 limit 1",
		"select 'a?', 1 from t where x = (select y from u where z = 4) group by 1",
		"delete from t where a >= 18446744073709551615 or b <> 007",
		"select a from t where a = 1.5 and b = -3 and f(1) = 2",
	} {
		f.Add(s)
	}
	p := NewParser()
	restored := func(sql string) (string, bool) {
		stmts, err := p.Parse(sql)
		if err != nil || len(stmts) != 1 {
			return "", false
		}
		var sb strings.Builder
		if err := stmts[0].Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
			return "", false
		}
		return sb.String(), true
	}
	f.Fuzz(func(t *testing.T, sql string) {
		norm, args, ok := AppendNormalized(nil, sql, nil)
		if !ok {
			return
		}
		want, ok := restored(sql)
		if !ok {
			return // the original does not parse: nothing to compare
		}
		filled, err := fillMarkers(string(norm), args)
		if err != nil {
			t.Fatalf("%q -> %q %v: %v", sql, norm, args, err)
		}
		got, ok := restored(filled)
		if !ok || got != want {
			t.Fatalf("%q\nnormalised %q %v\nrefilled %q\n got %q\nwant %q", sql, norm, args, filled, got, want)
		}
	})
}

// fillMarkers replaces the ? markers outside quotes with the arguments as
// SQL literals, as a plan's templates do.
func fillMarkers(s string, args []any) (string, error) {
	var b []byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'', '`':
			j := i + 1
			for j < len(s) {
				if s[j] == '\\' && c == '\'' {
					j += 2
					continue
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(s) {
				return "", fmt.Errorf("unterminated quote at %d", i)
			}
			b = append(b, s[i:j+1]...)
			i = j
		case '?':
			if n >= len(args) {
				return "", fmt.Errorf("more markers than %d args", len(args))
			}
			var err error
			if b, err = engine.AppendLiteral(b, args[n]); err != nil {
				return "", err
			}
			n++
		default:
			b = append(b, c)
		}
	}
	if n != len(args) {
		return "", fmt.Errorf("%d markers, %d args", n, len(args))
	}
	return string(b), nil
}
