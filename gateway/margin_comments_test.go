package gateway

import "testing"

func TestSplitMarginComments(t *testing.T) {
	for _, c := range []struct {
		sql, leading, core, trailing string
		ok                           bool
	}{
		{"SELECT 1", "", "SELECT 1", "", true},
		{"SELECT 1;", "", "SELECT 1", "", true},
		{"/* a */ SELECT 1", "/* a */ ", "SELECT 1", "", true},
		{"SELECT c FROM t WHERE id = 7 /*traceparent='00-ab-01'*/", "", "SELECT c FROM t WHERE id = 7 ", "/*traceparent='00-ab-01'*/", true},
		{"/*a*/ /*b*/SELECT 1 /*c*/ /*d*/ ;", "/*a*/ /*b*/", "SELECT 1 ", "/*c*/ /*d*/", true},
		{"SELECT /* inside */ 1", "", "SELECT /* inside */ 1", "", true}, // the normaliser refuses it
		// Executable comments and hints stay with the statement.
		{"/*! STRAIGHT_JOIN */ SELECT 1", "", "/*! STRAIGHT_JOIN */ SELECT 1", "", false},
		{"/*M!100000 SELECT 1 */", "", "/*M!100000 SELECT 1 */", "", false},
		{"SELECT 1 /*+ MAX_EXECUTION_TIME(1) */", "", "SELECT 1 /*+ MAX_EXECUTION_TIME(1) */", "", false},
		{"/* unterminated SELECT 1", "", "/* unterminated SELECT 1", "", false},
		{"SELECT '*/' /* x */", "", "SELECT '*/' ", "/* x */", true},
	} {
		got, core, ok := splitMarginComments(c.sql)
		if ok != c.ok {
			t.Errorf("splitMarginComments(%q) ok = %v, want %v", c.sql, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if got.leading != c.leading || core != c.core || got.trailing != c.trailing {
			t.Errorf("splitMarginComments(%q) = %q | %q | %q, want %q | %q | %q", c.sql, got.leading, core, got.trailing, c.leading, c.core, c.trailing)
		}
	}
}

// TestCommentedStatementsShareAPlan: point selects that differ only in a
// trailing sqlcommenter comment are one plan-cache entry, and the
// statement keeps its own comments to put back around its shard queries
// (TestMarginCommentReachesShard sees them on a shard).
func TestCommentedStatementsShareAPlan(t *testing.T) {
	s, _ := benchSession(t, 0)
	s.runQuery("SELECT c FROM sbtest1 WHERE id=42 /*traceparent='00-aa-01'*/")
	s.runQuery("/* app:checkout */ SELECT c FROM sbtest1 WHERE id=43 /*traceparent='00-bb-01'*/")
	st := s.srv.plans.stats()
	if st.Misses != 1 || st.Hits != 1 || st.Entries != 1 {
		t.Errorf("plan cache after two commented point selects: %+v, want 1 miss, 1 hit, 1 entry", st)
	}
	if got, want := s.stmt.comments.around("q"), "/* app:checkout */ q/*traceparent='00-bb-01'*/"; got != want {
		t.Errorf("comments put back around a shard query: %q, want %q", got, want)
	}
	s.runQuery("SELECT c FROM sbtest1 WHERE id=44")
	if got := s.stmt.comments.around("q"); got != "q" {
		t.Errorf("a comment outlived its statement: %q", got)
	}
}
