package planner

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
)

// TestParseRefusesDeepExpressions: issue 15, finding 1. A WHERE of 7
// million chained ANDs overflowed the Go stack in splitAnd, and 15
// million `+` terms in the parser's walk — fatal to the process. Both now
// answer MariaDB's 1436 before the parser builds the tree.
func TestParseRefusesDeepExpressions(t *testing.T) {
	p := NewParser()
	for _, tc := range []struct {
		name string
		sql  string
	}{
		{"7M ANDs", "select * from t where " + strings.Repeat("a=1 and ", 7_000_000) + "a=1"},
		{"15M plus", "select " + strings.Repeat("1+", 15_000_000) + "1"},
		{"parentheses", "select " + strings.Repeat("(", MaxExpressionDepth+1) + "1" + strings.Repeat(")", MaxExpressionDepth+1)},
		{"unary minus", "select " + strings.Repeat("- ", MaxExpressionDepth+1) + "1"},
		{"NOTs", "select " + strings.Repeat("not ", MaxExpressionDepth+1) + "1"},
		{"functions", "select " + strings.Repeat("abs(", MaxExpressionDepth+1) + "1" + strings.Repeat(")", MaxExpressionDepth+1)},
	} {
		_, err := p.Parse(tc.sql)
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != mysql.ER_STACK_OVERRUN_NEED_MORE {
			t.Errorf("%s: got %v, want error 1436", tc.name, err)
		}
	}
	if _, err := p.Parse("select 1"); err != nil {
		t.Fatalf("after the refusals: %v", err)
	}
}

// TestParseAcceptsWideStatements: what is long but not deep still parses:
// many values, many select items, operators inside strings and comments,
// chains just under the limit.
func TestParseAcceptsWideStatements(t *testing.T) {
	p := NewParser()
	values := make([]string, 50_000)
	for i := range values {
		values[i] = "(-1, 'a+b+c', 1+2)"
	}
	items := make([]string, 100_000)
	for i := range items {
		items[i] = "-1"
	}
	for _, tc := range []struct {
		name string
		sql  string
	}{
		{"bulk insert", "insert into t (a, b, c) values " + strings.Join(values, ", ")},
		{"select list", "select " + strings.Join(items, ", ")},
		{"in list", "select * from t where a in (" + strings.Join(items, ", ") + ")"},
		{"strings", "select '" + strings.Repeat("1+", 20_000) + "', `" + strings.Repeat("(", 20_000) + "`"},
		{"comment", "select 1 /* " + strings.Repeat("((", 20_000) + " */"},
		{"long chain", "select * from t where " + strings.Repeat("a=1 and ", MaxExpressionDepth/4) + "a=1"},
	} {
		if _, err := p.Parse(tc.sql); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestSplitAndLongChain: splitAnd flattens a chain without recursing.
func TestSplitAndLongChain(t *testing.T) {
	p := NewParser()
	stmts, err := p.Parse("select * from t where " + strings.Repeat("a=1 and ", 2000) + "(b=2 and c=3)")
	if err != nil {
		t.Fatal(err)
	}
	terms := splitAnd(stmts[0].(*ast.SelectStmt).Where, nil)
	if len(terms) != 2002 {
		t.Fatalf("got %d terms, want 2002", len(terms))
	}
	var last strings.Builder
	if err := terms[2001].Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &last)); err != nil {
		t.Fatal(err)
	}
	if last.String() != "`c`=3" {
		t.Errorf("last term: got %s, want `c`=3", last.String())
	}
}

// TestDepthScanFollowsNoBackslashEscapes: in NO_BACKSLASH_ESCAPES a
// backslash ends nothing, so 'x\' is a whole string; a scan that took it
// for an escaped quote would not see the deep expression after it.
func TestDepthScanFollowsNoBackslashEscapes(t *testing.T) {
	p := NewParser()
	p.SetNoBackslashEscapes(true)
	sql := `select 'x\', ` + strings.Repeat("1+", MaxExpressionDepth+1) + "1, 'y'"
	_, err := p.Parse(sql)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_STACK_OVERRUN_NEED_MORE {
		t.Fatalf("deep expression after 'x\\' in NO_BACKSLASH_ESCAPES: got %v, want error 1436", err)
	}
}
