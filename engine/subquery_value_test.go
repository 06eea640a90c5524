package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// TestSubqueryValuesKeepMySQLSemantics pins what ANY/SOME/ALL, row IN and
// scalar subqueries bind into the outer query: the same truth table over
// literals (NULLs and the empty set included) and literals typed as the
// subquery's column.
func TestSubqueryValuesKeepMySQLSemantics(t *testing.T) {
	outer := func() *Route {
		tmpl, err := CompileTemplate("select a from t where " + HoleParam(0))
		if err != nil {
			t.Fatal(err)
		}
		return &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: tmpl}
	}
	intField := &mysql.Field{Name: []byte("x"), Type: mysql.MYSQL_TYPE_LONG, ColumnLength: 11, Charset: binaryCharset}
	decField := &mysql.Field{Name: []byte("x"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, ColumnLength: 10, Decimal: 2, Charset: binaryCharset}
	strField := field("x", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI)
	for _, tc := range []struct {
		name   string
		in     SubqueryInput
		fields []*mysql.Field
		rows   [][]string
		want   string
		err    uint16
	}{
		{"> ANY is an OR of comparisons, NULL kept", SubqueryInput{Kind: SubAny, Op: ">", Left: "`a`"}, []*mysql.Field{intField},
			[][]string{{"3"}, {"NULL"}, {"3"}, {"-5"}}, "select a from t where (`a` > 000000003 or `a` > nullif(000000000, 000000000) or `a` > -00000005)", 0},
		{"ANY over nothing is false", SubqueryInput{Kind: SubAny, Op: "<", Left: "`a`"}, []*mysql.Field{intField}, nil, "select a from t where 0", 0},
		{"ALL is an AND of comparisons", SubqueryInput{Kind: SubAll, Op: "<=", Left: "`a`"}, []*mysql.Field{decField},
			[][]string{{"1.50"}, {"2.00"}}, "select a from t where (`a` <= 1.50 and `a` <= 2.00)", 0},
		{"ALL over nothing is true", SubqueryInput{Kind: SubAll, Op: "=", Left: "`a`"}, []*mysql.Field{intField}, nil, "select a from t where 1", 0},
		{"ANY of two columns", SubqueryInput{Kind: SubAny, Op: ">", Left: "`a`"}, []*mysql.Field{intField, intField}, [][]string{{"1", "2"}}, "", mysql.ER_OPERAND_COLUMNS},
		{"row IN lists rows once", SubqueryInput{Kind: SubIn, Cols: 2, Left: "row(`a`,`b`)"}, []*mysql.Field{intField, strField},
			[][]string{{"1", "x"}, {"1", "x"}, {"NULL", "it's"}}, "select a from t where row(`a`,`b`) in ((000000001, 'x'), (nullif(000000000, 000000000), 'it\\'s'))", 0},
		{"row NOT IN over nothing is true", SubqueryInput{Kind: SubIn, Not: true, Cols: 2, Left: "row(`a`,`b`)"}, []*mysql.Field{intField, strField}, nil, "select a from t where 1", 0},
		{"row IN of the wrong width", SubqueryInput{Kind: SubIn, Cols: 2, Left: "row(`a`,`b`)"}, []*mysql.Field{intField}, [][]string{{"1"}}, "", mysql.ER_OPERAND_COLUMNS},
		{"scalar NULL keeps its type", SubqueryInput{Kind: SubScalar}, []*mysql.Field{decField}, nil, "select a from t where cast(null as decimal(8, 2))", 0},
		{"scalar string", SubqueryInput{Kind: SubScalar}, []*mysql.Field{strField}, [][]string{{"NULL"}}, "select a from t where cast(null as char)", 0},
	} {
		in := tc.in
		in.Input = scatterRoute("select x from s")
		vc := newFakeVCursor()
		vc.results = func(_, shard, query string) (*Result, error) {
			if query == "select x from s" && shard == "-40" {
				return &Result{Fields: tc.fields, Rows: rows(tc.rows...)}, nil
			}
			return &Result{Fields: tc.fields}, nil
		}
		u := &UncorrelatedSubquery{Subs: []SubqueryInput{in}, Outer: outer(), NParams: 0}
		_, err := u.Execute(context.Background(), vc, nil)
		if tc.err != 0 {
			var me *mysql.MyError
			if !errors.As(err, &me) || me.Code != tc.err {
				t.Errorf("%s: got %v, want error %d", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		last := vc.log[len(vc.log)-1]
		if got := strings.TrimPrefix(last, "ExecuteMulti global.-: "); got != tc.want {
			t.Errorf("%s: outer query %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestScalarSubqueryValueInEvaluator: the gateway's evaluator (HAVING over
// merged groups) reads a bound scalar subquery's value as the number it is.
func TestScalarSubqueryValueInEvaluator(t *testing.T) {
	decField := &mysql.Field{Type: mysql.MYSQL_TYPE_NEWDECIMAL, ColumnLength: 10, Decimal: 2}
	v, err := scalarValue(&Result{Fields: []*mysql.Field{decField}, Rows: rows([]string{"2.50"})})
	if err != nil {
		t.Fatal(err)
	}
	gt := BinaryExpr(OpGT, ColumnExpr(0), ArgExpr(0))
	for _, c := range []struct {
		col  string
		want bool
	}{{"3", true}, {"2.5", false}} {
		got, null, err := gt.Truth(DefaultEvalEnv(), rows([]string{c.col})[0], []*mysql.Field{decField}, []any{v})
		if err != nil || null || got != c.want {
			t.Errorf("%s > 2.50: got %v (null %v, err %v), want %v", c.col, got, null, err, c.want)
		}
	}
	null, err := scalarValue(&Result{Fields: []*mysql.Field{decField}})
	if err != nil {
		t.Fatal(err)
	}
	if _, isNull, _ := gt.Truth(DefaultEvalEnv(), rows([]string{"3"})[0], []*mysql.Field{decField}, []any{null}); !isNull {
		t.Errorf("3 > (no row): want NULL")
	}
}
