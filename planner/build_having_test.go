package planner

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

func TestHavingEvaluator(t *testing.T) {
	stmts, err := NewParser().Parse("select 1 from t having a > 2 and not b is null or a / b <=> null")
	if err != nil {
		t.Fatal(err)
	}
	expr := stmts[0].(*ast.SelectStmt).Having.Expr
	fn, err := compileExpr(expr, func(e ast.ExprNode) (int, error) {
		if s, _ := restore(e); s == "`a`" {
			return 0, nil
		}
		return 1, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	decimals := []*mysql.Field{
		{Name: []byte("a"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: 63},
		{Name: []byte("b"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: 63},
	}
	for _, tc := range []struct {
		a, b []byte
		want string
	}{
		{[]byte("3"), []byte("1"), "1"},
		{[]byte("1"), []byte("1"), "0"},
		{[]byte("1"), []byte("0"), "1"}, // a / 0 is NULL, and NULL <=> NULL
		{nil, []byte("1"), "1"},         // NULL > 2 is NULL; a / b is NULL
		{[]byte("3"), nil, "1"},         // NOT (b IS NULL) is false; a / NULL is NULL
	} {
		tr, null, err := fn.Truth(engine.DefaultEvalEnv(), [][]byte{tc.a, tc.b}, decimals, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := "0"
		if null {
			got = "NULL"
		} else if tr {
			got = "1"
		}
		if got != tc.want {
			t.Errorf("a=%s b=%s: got %s, want %s", tc.a, tc.b, got, tc.want)
		}
	}
	// A character column in a comparison is refused at run time.
	text := []*mysql.Field{{Name: []byte("a"), Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 45}, decimals[1]}
	if _, _, err := fn.Truth(engine.DefaultEvalEnv(), [][]byte{[]byte("x"), []byte("1")}, text, nil); err == nil || !strings.Contains(err.Error(), "comparing strings in HAVING") {
		t.Fatalf("got %v, want the string comparison refused", err)
	}
}
