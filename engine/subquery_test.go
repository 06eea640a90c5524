package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// subqueryCursor answers the inner query "select x from s" with xs (one
// row each, from the first shard only) and anything else with no rows.
func subqueryCursor(xs ...string) *fakeVCursor {
	vc := newFakeVCursor()
	fields := []*mysql.Field{field("x", mysql.MYSQL_TYPE_LONGLONG, binaryCharset)}
	vc.results = func(_, shard, query string) (*Result, error) {
		if query == "select x from s" && shard == "-40" {
			var rs [][]string
			for _, x := range xs {
				rs = append(rs, []string{x})
			}
			return &Result{Fields: fields, Rows: rows(rs...)}, nil
		}
		return &Result{Fields: fields}, nil
	}
	return vc
}

func TestUncorrelatedSubqueryWritesValuesIntoOuter(t *testing.T) {
	outer := func() *Route {
		tmpl, err := CompileTemplate("select a from t where " + HoleParam(1))
		if err != nil {
			t.Fatal(err)
		}
		return &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: tmpl}
	}
	for _, tc := range []struct {
		name string
		in   SubqueryInput
		xs   []string
		want string
		err  uint16
	}{
		{"IN lists each value once, NULL too", SubqueryInput{Kind: SubIn, Left: "`a`"}, []string{"1", "2", "2", "NULL"}, "select a from t where `a` in (1, 2, null)", 0},
		{"IN over nothing is false", SubqueryInput{Kind: SubIn, Left: "`a`"}, nil, "select a from t where 0", 0},
		{"NOT IN over nothing is true", SubqueryInput{Kind: SubIn, Not: true, Left: "`a`"}, nil, "select a from t where 1", 0},
		{"EXISTS", SubqueryInput{Kind: SubExists}, []string{"5"}, "select a from t where 1", 0},
		{"scalar", SubqueryInput{Kind: SubScalar}, []string{"5"}, "select a from t where 5", 0},
		{"scalar of nothing is NULL", SubqueryInput{Kind: SubScalar}, nil, "select a from t where null", 0},
		{"scalar of two rows", SubqueryInput{Kind: SubScalar}, []string{"5", "6"}, "", mysql.ER_SUBQUERY_NO_1_ROW},
	} {
		in := tc.in
		in.Input = scatterRoute("select x from s")
		u := &UncorrelatedSubquery{Subs: []SubqueryInput{in}, Outer: outer(), NParams: 1}
		vc := subqueryCursor(tc.xs...)
		_, err := u.Execute(context.Background(), vc, []any{int64(9)})
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
		// The subquery ran first, on every shard, with the statement's
		// own arguments.
		if n := len(slices.DeleteFunc(slices.Clone(vc.log), func(l string) bool { return !strings.HasSuffix(l, "select x from s") })); n != 4 {
			t.Errorf("%s: subquery ran on %d shards, want 4: %q", tc.name, n, vc.log)
		}
	}
}
