package engine

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// semiJoinCursor: the outer query "select a, k from o" gives rows (a, k)
// from the global shard; the inner query "select 1 from i where k = <k>"
// gives a row when k is in matches, and "select v from i where k = <k>"
// the rows of values[k].
func semiJoinCursor(outer [][]string, matches map[string]bool, values map[string][]string) *fakeVCursor {
	vc := newFakeVCursor()
	vc.results = func(_, _, query string) (*Result, error) {
		switch {
		case query == "select a, k from o":
			return &Result{Fields: []*mysql.Field{field("a", mysql.MYSQL_TYPE_LONGLONG, binaryCharset), field("k", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI)}, Rows: rows(outer...)}, nil
		case len(query) > len("select 1 from i where k = ") && query[:len("select 1 from i where k = ")] == "select 1 from i where k = ":
			r := &Result{Fields: []*mysql.Field{field("1", mysql.MYSQL_TYPE_LONGLONG, binaryCharset)}}
			if matches[query[len("select 1 from i where k = "):]] {
				r.Rows = rows([]string{"1"})
			}
			return r, nil
		case len(query) > len("select v from i where k = "):
			f := field("v", mysql.MYSQL_TYPE_NEWDECIMAL, binaryCharset)
			f.Data = mysql.FieldData("the packet as the shard sent it")
			r := &Result{Fields: []*mysql.Field{f}}
			for _, v := range values[query[len("select v from i where k = "):]] {
				r.Rows = append(r.Rows, rows([]string{v})...)
			}
			return r, nil
		}
		return nil, errors.New("fake: unexpected query " + query)
	}
	return vc
}

func innerRoute(t *testing.T, prefix string) *Route {
	t.Helper()
	tmpl, err := CompileTemplate(prefix + HoleParam(1))
	if err != nil {
		t.Fatal(err)
	}
	return &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: tmpl}
}

func TestSemiJoinKeepsRowsByExistsOncePerJoinValue(t *testing.T) {
	outer := [][]string{{"1", "x"}, {"2", "y"}, {"3", "x"}, {"4", "NULL"}}
	for _, tc := range []struct {
		name string
		not  bool
		want []string
	}{
		{"EXISTS", false, []string{"1", "3"}},
		{"NOT EXISTS", true, []string{"2", "4"}},
	} {
		vc := semiJoinCursor(outer, map[string]bool{"'x'": true}, nil)
		s := &SemiJoin{
			Outer:   &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: TextTemplate("select a, k from o")},
			Subs:    []SemiJoinInput{{Not: tc.not, Input: innerRoute(t, "select 1 from i where k = ")}},
			Vars:    1,
			NParams: 1,
		}
		r, err := s.Execute(context.Background(), vc, []any{int64(7)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, row := range r.Rows {
			got = append(got, string(row[0]))
			if len(row) != 1 {
				t.Errorf("%s: row %q keeps the join column", tc.name, row)
			}
		}
		if !slices.Equal(got, tc.want) || len(r.Fields) != 1 {
			t.Errorf("%s: got rows %v and %d fields, want %v and 1", tc.name, got, len(r.Fields), tc.want)
		}
		// x twice and NULL: three inner queries, not four.
		wantLog := []string{
			"ExecuteMulti global.-: select a, k from o",
			"ExecuteMulti global.-: select 1 from i where k = 'x'",
			"ExecuteMulti global.-: select 1 from i where k = 'y'",
			"ExecuteMulti global.-: select 1 from i where k = null",
		}
		if !slices.Equal(vc.log, wantLog) {
			t.Errorf("%s: shard calls\n got %q\nwant %q", tc.name, vc.log, wantLog)
		}
	}
}

func TestSemiJoinValuesAreScalarSubqueries(t *testing.T) {
	outer := [][]string{{"1", "x"}, {"2", "y"}}
	mk := func() *SemiJoin {
		return &SemiJoin{
			Outer:   &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: TextTemplate("select a, k from o")},
			Values:  []SemiJoinValue{{Col: 0, Name: "(select v)", Input: innerRoute(t, "select v from i where k = ")}},
			Vars:    1,
			NParams: 1,
		}
	}
	vc := semiJoinCursor(outer, nil, map[string][]string{"'x'": {"2.50"}})
	r, err := mk().Execute(context.Background(), vc, []any{int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Fields) != 1 || string(r.Fields[0].Name) != "(select v)" || r.Fields[0].Type != mysql.MYSQL_TYPE_NEWDECIMAL || r.Fields[0].Data != nil {
		t.Errorf("got field %+v, want (select v) of type DECIMAL", r.Fields[0])
	}
	if len(r.Rows) != 2 || string(r.Rows[0][0]) != "2.50" || r.Rows[1][0] != nil {
		t.Errorf("got rows %q, want 2.50 and NULL (no inner row)", r.Rows)
	}

	// No outer row: the inner query still names and types the column.
	vc = semiJoinCursor(nil, nil, nil)
	r, err = mk().Execute(context.Background(), vc, []any{int64(7)})
	if err != nil || len(r.Fields) != 1 || r.Fields[0].Type != mysql.MYSQL_TYPE_NEWDECIMAL {
		t.Errorf("no outer rows: got %v, %v, want one DECIMAL field", r, err)
	}

	vc = semiJoinCursor(outer, nil, map[string][]string{"'y'": {"1", "2"}})
	_, err = mk().Execute(context.Background(), vc, []any{int64(7)})
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_SUBQUERY_NO_1_ROW {
		t.Errorf("two inner rows: got %v, want error %d", err, mysql.ER_SUBQUERY_NO_1_ROW)
	}
}

// An OR of an outer-only condition (a flag column) and a subquery keeps a
// row when either is true, and asks the inner query only when the flag is
// not.
func TestSemiJoinOrOfFlagAndSubquery(t *testing.T) {
	vc := newFakeVCursor()
	vc.results = func(_, _, query string) (*Result, error) {
		if query == "select a, k, f from o" {
			return &Result{Fields: []*mysql.Field{field("a", mysql.MYSQL_TYPE_LONGLONG, binaryCharset), field("k", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI), field("f", mysql.MYSQL_TYPE_LONGLONG, binaryCharset)},
				Rows: rows([]string{"1", "x", "1"}, []string{"2", "x", "0"}, []string{"3", "y", "0"})}, nil
		}
		r := &Result{Fields: []*mysql.Field{field("1", mysql.MYSQL_TYPE_LONGLONG, binaryCharset)}}
		if query == "select 1 from i where k = 'y'" {
			r.Rows = rows([]string{"1"})
		}
		return r, nil
	}
	s := &SemiJoin{
		Outer:   &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: TextTemplate("select a, k, f from o")},
		Subs:    []SemiJoinInput{{Input: innerRoute(t, "select 1 from i where k = ")}},
		Vars:    1,
		Flags:   []int{0},
		NParams: 1,
	}
	r, err := s.Execute(context.Background(), vc, []any{int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range r.Rows {
		got = append(got, string(row[0]))
	}
	if want := []string{"1", "3"}; !slices.Equal(got, want) || len(r.Fields) != 1 {
		t.Errorf("got rows %v and %d fields, want %v and 1", got, len(r.Fields), want)
	}
	wantLog := []string{
		"ExecuteMulti global.-: select a, k, f from o",
		"ExecuteMulti global.-: select 1 from i where k = 'x'",
		"ExecuteMulti global.-: select 1 from i where k = 'y'",
	}
	if !slices.Equal(vc.log, wantLog) {
		t.Errorf("shard calls\n got %q\nwant %q", vc.log, wantLog)
	}
}
