package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func field(name string, typ uint8, charset uint16) *mysql.Field {
	return &mysql.Field{Name: []byte(name), Type: typ, Charset: charset}
}

const utf8mb4GeneralCI = 45

// rows builds rows from strings; "NULL" is a NULL.
func rows(vals ...[]string) [][][]byte {
	out := make([][][]byte, len(vals))
	for i, r := range vals {
		out[i] = make([][]byte, len(r))
		for j, v := range r {
			if v != "NULL" {
				out[i][j] = []byte(v)
			}
		}
	}
	return out
}

func show(rs [][][]byte) string {
	var parts []string
	for _, r := range rs {
		var cells []string
		for _, c := range r {
			if c == nil {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, string(c))
			}
		}
		parts = append(parts, "("+strings.Join(cells, ",")+")")
	}
	return strings.Join(parts, " ")
}

// shardResults makes a fake whose shard i of service answers perShard[i].
func shardResults(fields []*mysql.Field, perShard ...[][][]byte) *fakeVCursor {
	vc := newFakeVCursor()
	names := []string{"-40", "40-80", "80-c0", "c0-"}
	vc.results = func(_, shard, _ string) (*Result, error) {
		for i, n := range names {
			if n == shard && i < len(perShard) {
				return &Result{Fields: fields, Rows: perShard[i]}, nil
			}
		}
		return &Result{Fields: fields}, nil
	}
	return vc
}

func scatterRoute(query string) *Route {
	return &Route{Routing: Routing{Opcode: Scatter, Keyspace: "service", Sharded: true}, Query: TextTemplate(query)}
}

func TestMergeSortNumericAndNulls(t *testing.T) {
	fields := []*mysql.Field{field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset)}
	vc := shardResults(fields,
		rows([]string{"NULL"}, []string{"9"}, []string{"10"}),
		rows([]string{"-3"}, []string{"100"}),
		nil,
		rows([]string{"2"}, []string{"9"}),
	)
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 0, Weight: NoWeight}}}
	r, err := ms.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(NULL) (-3) (2) (9) (9) (10) (100)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Descending: NULLs last.
	vc = shardResults(fields,
		rows([]string{"10"}, []string{"9"}, []string{"NULL"}),
		rows([]string{"100"}, []string{"-3"}),
	)
	ms.Keys[0].Desc = true
	r, err = ms.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(100) (10) (9) (-3) (NULL)"; got != want {
		t.Errorf("desc: got %s, want %s", got, want)
	}
}

func TestMergeSortStringsByWeightTrimsHidden(t *testing.T) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("weight_string(name)", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	// Case-insensitive collation: weights are upper case.
	vc := shardResults(fields,
		rows([]string{"1", "apple", "APPLE"}, []string{"2", "Cherry", "CHERRY"}),
		rows([]string{"3", "Banana", "BANANA"}, []string{"4", "date", "DATE"}),
	)
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 1, Weight: 2}}, Trim: 1}
	r, err := ms.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(1,apple) (3,Banana) (2,Cherry) (4,date)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if len(r.Fields) != 2 {
		t.Errorf("got %d fields, want 2 (hidden weight column trimmed)", len(r.Fields))
	}
}

func TestMergeSortFromEndIndices(t *testing.T) {
	// select *, name, weight_string(name): the key columns count from the end.
	fields := []*mysql.Field{
		field("a", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("b", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("k", mysql.MYSQL_TYPE_DOUBLE, binaryCharset),
		field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	vc := shardResults(fields,
		rows([]string{"1", "1", "1.5", "x"}, []string{"2", "2", "1e3", "x"}),
		rows([]string{"3", "3", "-2", "x"}, []string{"4", "4", "20", "x"}),
	)
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: -2, Weight: -1}}, Trim: 2}
	r, err := ms.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(3,3) (1,1) (4,4) (2,2)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestMergeSortRefusesEnum(t *testing.T) {
	f := field("e", mysql.MYSQL_TYPE_STRING, utf8mb4GeneralCI)
	f.Flag = mysql.ENUM_FLAG
	vc := shardResults([]*mysql.Field{f, field("w", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset)}, rows([]string{"a", "A"}))
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 0, Weight: 1}}, Trim: 1}
	_, err := ms.Execute(context.Background(), vc, nil)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_NOT_SUPPORTED_YET {
		t.Fatalf("got %v, want error 1235", err)
	}
}

func TestLimitOffsetOverMergeSort(t *testing.T) {
	fields := []*mysql.Field{field("id", mysql.MYSQL_TYPE_LONG, binaryCharset)}
	per := [][][][]byte{
		rows([]string{"1"}, []string{"4"}, []string{"7"}),
		rows([]string{"2"}, []string{"5"}, []string{"8"}),
		rows([]string{"3"}, []string{"6"}, []string{"9"}),
	}
	for _, tc := range []struct {
		offset, count int64
		want          string
	}{
		{0, 2, "(1) (2)"},
		{2, 3, "(3) (4) (5)"},
		{8, 5, "(9)"},
		{20, 5, ""},
		{0, 0, ""},
	} {
		off := Value{Param: -1, Val: tc.offset, Mappable: true, SQL: fmt.Sprint(tc.offset)}
		lim := &Limit{
			Input: &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 0, Weight: NoWeight}}},
			Spec:  LimitSpec{Count: Value{Param: 0}, Offset: &off},
		}
		r, err := lim.Execute(context.Background(), shardResults(fields, per...), []any{tc.count})
		if err != nil {
			t.Fatal(err)
		}
		if got := show(r.Rows); got != tc.want {
			t.Errorf("limit %d, %d: got %q, want %q", tc.offset, tc.count, got, tc.want)
		}
		// Streaming gives the same rows, fields first.
		var streamed [][][]byte
		calls := 0
		err = lim.Stream(context.Background(), shardResults(fields, per...), []any{tc.count}, func(r *Result) error {
			if calls == 0 && r.Fields == nil {
				t.Errorf("first callback without fields")
			}
			calls++
			streamed = append(streamed, r.Rows...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := show(streamed); got != tc.want {
			t.Errorf("stream limit %d, %d: got %q, want %q", tc.offset, tc.count, got, tc.want)
		}
	}
}

func TestAggregate(t *testing.T) {
	fields := []*mysql.Field{
		field("count(*)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("sum(x)", mysql.MYSQL_TYPE_NEWDECIMAL, binaryCharset),
		field("min(name)", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("max(n)", mysql.MYSQL_TYPE_LONG, binaryCharset),
		field("sum(f)", mysql.MYSQL_TYPE_DOUBLE, binaryCharset),
		field("ws(min(name))", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("ws(max(n))", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	cols := []AggregateColumn{
		{Op: AggrCount, Weight: NoWeight},
		{Op: AggrSum, Weight: NoWeight},
		{Op: AggrMin, Weight: 5},
		{Op: AggrMax, Weight: 6},
		{Op: AggrSum, Weight: NoWeight},
	}
	for _, tc := range []struct {
		name string
		per  [][][][]byte
		want string
	}{
		{"all shards empty", [][][][]byte{
			rows([]string{"0", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"}),
			rows([]string{"0", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"}),
		}, "(0,NULL,NULL,NULL,NULL)"},
		{"some shards empty", [][][][]byte{
			rows([]string{"3", "1.50", "b", "9", "0.5", "B", "x"}),
			rows([]string{"0", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"}),
			rows([]string{"10", "-2.25", "A", "10", "1e20", "A", "x"}),
		}, "(13,-0.75,A,10,1e20)"},
		{"numeric max is not textual", [][][][]byte{
			rows([]string{"1", "1", "z", "9", "1", "Z", "x"}),
			rows([]string{"1", "1", "y", "100", "2", "Y", "x"}),
		}, "(2,2,y,100,3)"},
	} {
		a := &Aggregate{Input: scatterRoute("q"), Columns: cols, Trim: 2}
		r, err := a.Execute(context.Background(), shardResults(fields, tc.per...), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := show(r.Rows); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
		if len(r.Fields) != 5 {
			t.Errorf("%s: got %d fields, want 5", tc.name, len(r.Fields))
		}
	}
}

func TestCompareDecimalAndTime(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		kind sortKind
		want int
	}{
		{"9", "10", sortDecimal, -1},
		{"-10", "-9", sortDecimal, -1},
		{"-0", "0", sortDecimal, 0},
		{"1.50", "1.5", sortDecimal, 0},
		{"0.05", "0.5", sortDecimal, -1},
		{"18446744073709551615", "9223372036854775807", sortDecimal, 1},
		{"-1", "0.1", sortDecimal, -1},
		{"1e3", "999", sortFloat, 1},
		{"-01:00:00", "00:59:59", sortTime, -1},
		{"100:00:00", "99:59:59.999999", sortTime, 1},
		{"2024-01-02 00:00:00", "2023-12-31 23:59:59", sortBytes, 1},
	} {
		if got := compareValue([]byte(tc.a), []byte(tc.b), tc.kind); got != tc.want {
			t.Errorf("compare(%q, %q): got %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareValue([]byte(tc.b), []byte(tc.a), tc.kind); got != -tc.want {
			t.Errorf("compare(%q, %q): got %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestAppendLiteral(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, "null"},
		{int64(-5), "-5"},
		{uint64(18446744073709551615), "18446744073709551615"},
		{1.5, "1.5e0"},
		{1e21, "1e+21"},
		{"it's", `'it\'s'`},
		{"a\\b\x00\n\r\"\x1a", `'a\\b\0\n\r\"\Z'`},
		{[]byte("x'y"), `'x\'y'`},
		{true, "1"},
	} {
		got, err := SQLLiteral(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("sqlLiteral(%#v): got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []any{struct{}{}, []int{1}} {
		if _, err := SQLLiteral(bad); err == nil {
			t.Errorf("sqlLiteral(%#v): want an error", bad)
		}
	}
}

func TestRouteStreamSendsFieldsOnce(t *testing.T) {
	fields := []*mysql.Field{field("id", mysql.MYSQL_TYPE_LONG, binaryCharset)}
	vc := shardResults(fields, rows([]string{"1"}), rows([]string{"2"}), rows([]string{"3"}))
	var got []string
	err := scatterRoute("select id from t").Stream(context.Background(), vc, nil, func(r *Result) error {
		if r.Fields != nil {
			got = append(got, "fields")
		}
		if len(r.Rows) > 0 {
			got = append(got, show(r.Rows))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fields", "(1)", "(2)", "(3)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
