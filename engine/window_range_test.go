package engine

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// MariaDB 10.11's answers over r(id, v): (1,1) (2,2) (3,2) (4,5) (5,NULL)
// (6,NULL) (7,8) (8,9), for
//
//	s:  sum(id) over (order by v range between 1 preceding and 1 following)
//	c2: count(*) over (order by v desc range between 1 preceding and 2 following)
//	up: sum(id) over (order by v range between unbounded preceding and 1 preceding)
//	uf: sum(id) over (order by v range between 1 following and unbounded following)
func TestWindowRangeOffsetsAsMariaDB(t *testing.T) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		{Name: []byte("s"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset},
		field("c2", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		{Name: []byte("up"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset},
		{Name: []byte("uf"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset},
		field("v", mysql.MYSQL_TYPE_LONG, binaryCharset),
	}
	r := func(id, v string) []string { return []string{id, "0", "0", "0", "0", v} }
	vc := shardResults(fields,
		rows(r("1", "1"), r("4", "5"), r("7", "8")),
		rows(r("2", "2"), r("5", "NULL")),
		rows(r("3", "2"), r("6", "NULL"), r("8", "9")),
	)
	asc := []OrderKey{{Col: 5, Weight: NoWeight}}
	desc := []OrderKey{{Col: 5, Weight: NoWeight, Desc: true}}
	n := func(s string) Value { return Value{Param: -1, SQL: s} }
	one, two := n("1"), n("2")
	fn := func(kind WindowKind, col int, order []OrderKey, start, end FrameBound) WindowFunc {
		return WindowFunc{Kind: kind, Col: col, Arg: 0, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight,
			Order: order, Frame: &WindowFrame{Start: start, End: end}}
	}
	w := &Window{Input: scatterRoute("q"), Trim: 1, Funcs: []WindowFunc{
		fn(WinSum, 1, asc, FrameBound{Kind: BoundPreceding, N: one}, FrameBound{Kind: BoundFollowing, N: one}),
		fn(WinCountStar, 2, desc, FrameBound{Kind: BoundPreceding, N: one}, FrameBound{Kind: BoundFollowing, N: two}),
		fn(WinSum, 3, asc, FrameBound{Kind: BoundUnboundedPreceding}, FrameBound{Kind: BoundPreceding, N: one}),
		fn(WinSum, 4, asc, FrameBound{Kind: BoundFollowing, N: one}, FrameBound{Kind: BoundUnboundedFollowing}),
	}}
	res, err := w.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "(1,6,3,11,24) (4,4,1,17,15) (7,15,2,21,8) (2,6,3,12,19) (5,11,2,11,36) (3,6,3,12,19) (6,11,2,11,36) (8,15,2,28,NULL)"
	if got := show(res.Rows); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// MariaDB: sum(id) over (order by dc range between 1.1 preceding and
// current row) over dc = 1.10, 2.20, NULL, 5.55, 7.00, 8.00, -1.00, 0.00.
func TestWindowRangeDecimalOffset(t *testing.T) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		{Name: []byte("s"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset},
		{Name: []byte("dc"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset, Decimal: 2},
	}
	vc := shardResults(fields, rows(
		[]string{"1", "0", "1.10"}, []string{"2", "0", "2.20"}, []string{"3", "0", "NULL"}, []string{"4", "0", "5.55"},
		[]string{"5", "0", "7.00"}, []string{"6", "0", "8.00"}, []string{"7", "0", "-1.00"}, []string{"8", "0", "0.00"}))
	w := &Window{Input: scatterRoute("q"), Trim: 1, Funcs: []WindowFunc{{
		Kind: WinSum, Col: 1, Arg: 0, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight,
		Order: []OrderKey{{Col: 2, Weight: NoWeight}},
		Frame: &WindowFrame{Start: FrameBound{Kind: BoundPreceding, N: Value{Param: -1, SQL: "1.1"}}, End: FrameBound{Kind: BoundCurrentRow}},
	}}}
	res, err := w.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "(1,9) (2,3) (3,3) (4,4) (5,5) (6,11) (7,7) (8,15)"
	if got := show(res.Rows); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
