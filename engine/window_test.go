package engine

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// windowFields: id, three result columns the shards computed over their own
// rows (replaced), and the hidden order key k.
func windowFields() []*mysql.Field {
	return []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("a", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("b", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("c", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("k", mysql.MYSQL_TYPE_LONG, binaryCharset),
	}
}

func TestWindowRanksRowsOfEveryShard(t *testing.T) {
	// Each shard numbered its own rows 1, 2: the gateway numbers all.
	vc := shardResults(windowFields(),
		rows([]string{"1", "1", "1", "1", "10"}, []string{"3", "2", "2", "2", "20"}),
		rows([]string{"2", "1", "1", "1", "10"}, []string{"4", "2", "2", "2", "30"}),
	)
	order := []OrderKey{{Col: 4, Weight: NoWeight}, {Col: 0, Weight: NoWeight}}
	rank := []OrderKey{{Col: 4, Weight: NoWeight}}
	w := &Window{Input: scatterRoute("q"), Trim: 1, Funcs: []WindowFunc{
		{Kind: WinRowNumber, Col: 1, Arg: NoColumn, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, Order: order},
		{Kind: WinRank, Col: 2, Arg: NoColumn, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, Order: rank},
		{Kind: WinDenseRank, Col: 3, Arg: NoColumn, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, Order: rank},
	}}
	r, err := w.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Rows stay in input order (shard by shard); k = 10, 20, 10, 30.
	if got, want := show(r.Rows), "(1,1,1,1) (3,3,3,2) (2,2,1,1) (4,4,4,3)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if len(r.Fields) != 4 {
		t.Errorf("got %d fields, want 4 (the order key hidden)", len(r.Fields))
	}
}

func TestWindowSlidingSumAndAverageKeepDecimalScale(t *testing.T) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		{Name: []byte("s"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset, Decimal: 2},
		{Name: []byte("a"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset, Decimal: 6},
		{Name: []byte("v"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset, Decimal: 2},
	}
	vc := shardResults(fields,
		rows([]string{"1", "0", "0", "1.10"}, []string{"3", "0", "0", "NULL"}),
		rows([]string{"2", "0", "0", "2.20"}, []string{"4", "0", "0", "4.00"}),
	)
	one := Value{Param: -1, Val: int64(1), SQL: "1"}
	frame := &WindowFrame{Rows: true, Start: FrameBound{Kind: BoundPreceding, N: one}, End: FrameBound{Kind: BoundFollowing, N: one}}
	order := []OrderKey{{Col: 0, Weight: NoWeight}}
	w := &Window{Input: scatterRoute("q"), Funcs: []WindowFunc{
		{Kind: WinSum, Col: 1, Arg: 3, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, Order: order, Frame: frame},
		{Kind: WinAvg, Col: 2, Arg: 3, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, Order: order},
	}}
	r, err := w.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Frames by id: {1,2} {1,2,3} {2,3,4} {3,4}; running averages 1.1,
	// 1.65, 1.65 (NULL skipped), 2.433333.
	want := "(1,3.30,1.100000,1.10) (3,6.20,1.650000,NULL) (2,3.30,1.650000,2.20) (4,4.00,2.433333,4.00)"
	if got := show(r.Rows); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestWindowLagLeadAndValueFunctions(t *testing.T) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("lag", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("nth", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("ntile", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("w", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("def", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
	}
	vc := shardResults(fields,
		rows([]string{"1", "", "", "", "a", "A", "none"}, []string{"3", "", "", "", "c", "C", "none"}),
		rows([]string{"2", "", "", "", "b", "B", "none"}),
	)
	order := []OrderKey{{Col: 0, Weight: NoWeight}}
	two := Value{Param: -1, Val: int64(2), SQL: "2"}
	w := &Window{Input: scatterRoute("q"), Trim: 3, Funcs: []WindowFunc{
		{Kind: WinLag, Col: 1, Arg: 4, ArgWeight: 5, Default: 6, DefaultWeight: NoWeight, Order: order},
		{Kind: WinNthValue, Col: 2, Arg: 4, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, N: &two, Order: order},
		{Kind: WinNtile, Col: 3, Arg: NoColumn, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, N: &two, Order: order},
	}}
	r, err := w.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// NTH_VALUE(name, 2) with the default frame is NULL until the frame
	// reaches row 2; NTILE(2) of three rows: 1, 1, 2.
	if got, want := show(r.Rows), "(1,none,NULL,1) (3,b,b,2) (2,a,b,1)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestWindowInputOverTheRowBudgetSaysSo(t *testing.T) {
	vc := newFakeVCursor()
	vc.results = func(_, _, _ string) (*Result, error) {
		return nil, sqlerror.New(sqlerror.User, mysql.ER_OUT_OF_RESOURCES, "Out of resources: the statement needs more than 10 rows buffered at the gateway (--max-buffered-rows)")
	}
	w := &Window{Input: scatterRoute("q"), Funcs: []WindowFunc{{Kind: WinRowNumber, Arg: NoColumn, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight}}}
	_, err := w.Execute(context.Background(), vc, nil)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_OUT_OF_RESOURCES {
		t.Fatalf("got %v, want error %d", err, mysql.ER_OUT_OF_RESOURCES)
	}
	if !strings.Contains(me.Message, "input of the window functions is too large") || !strings.Contains(me.Message, "more than 10 rows") {
		t.Errorf("got %q, want it to name the window input and the limit", me.Message)
	}
}

func TestWindowPercentRankHasMariaDBsTenDecimals(t *testing.T) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		{Name: []byte("pr"), Type: mysql.MYSQL_TYPE_DOUBLE, Charset: binaryCharset, Decimal: 10},
		{Name: []byte("cd"), Type: mysql.MYSQL_TYPE_DOUBLE, Charset: binaryCharset, Decimal: 10},
	}
	vc := shardResults(fields, rows(
		[]string{"1", "0", "0"}, []string{"2", "0", "0"}, []string{"3", "0", "0"}, []string{"4", "0", "0"},
		[]string{"5", "0", "0"}, []string{"6", "0", "0"}, []string{"7", "0", "0"}))
	order := []OrderKey{{Col: 0, Weight: NoWeight}}
	w := &Window{Input: scatterRoute("q"), Funcs: []WindowFunc{
		{Kind: WinPercentRank, Col: 1, Arg: NoColumn, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, Order: order},
		{Kind: WinCumeDist, Col: 2, Arg: NoColumn, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, Order: order},
	}}
	r, err := w.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 1/6 = 0.1666666667 rounded at 10 decimals; 4/7 = 0.5714285714; 1 and
	// 0.5 without trailing zeros.
	want := "(1,0,0.1428571429) (2,0.1666666667,0.2857142857) (3,0.3333333333,0.4285714286) (4,0.5,0.5714285714) (5,0.6666666667,0.7142857143) (6,0.8333333333,0.8571428571) (7,1,1)"
	if got := show(r.Rows); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestWindowMinMaxOverGrowingShrinkingAndSlidingFrames(t *testing.T) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("mn", mysql.MYSQL_TYPE_LONG, binaryCharset),
		field("mx", mysql.MYSQL_TYPE_LONG, binaryCharset),
		field("sl", mysql.MYSQL_TYPE_LONG, binaryCharset),
		field("v", mysql.MYSQL_TYPE_LONG, binaryCharset),
	}
	vc := shardResults(fields,
		rows([]string{"1", "", "", "", "3"}, []string{"3", "", "", "", "1"}, []string{"5", "", "", "", "2"}),
		rows([]string{"2", "", "", "", "NULL"}, []string{"4", "", "", "", "5"}),
	)
	one := Value{Param: -1, Val: int64(1), SQL: "1"}
	order := []OrderKey{{Col: 0, Weight: NoWeight}}
	fn := func(k WindowKind, col int, fr *WindowFrame) WindowFunc {
		return WindowFunc{Kind: k, Col: col, Arg: 4, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, Order: order, Frame: fr}
	}
	w := &Window{Input: scatterRoute("q"), Trim: 1, Funcs: []WindowFunc{
		fn(WinMin, 1, nil),
		fn(WinMax, 2, &WindowFrame{Rows: true, Start: FrameBound{Kind: BoundCurrentRow}, End: FrameBound{Kind: BoundUnboundedFollowing}}),
		fn(WinMin, 3, &WindowFrame{Rows: true, Start: FrameBound{Kind: BoundPreceding, N: one}, End: FrameBound{Kind: BoundFollowing, N: one}}),
	}}
	r, err := w.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// By id, v = 3, NULL, 1, 5, 2; NULLs never win.
	want := "(1,3,5,3) (3,1,5,1) (5,1,2,2) (2,3,5,1) (4,1,5,1)"
	if got := show(r.Rows); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// BenchmarkWindow100kRows: ROW_NUMBER, a running SUM and a running MIN over
// 100 partitions of the default row budget's 100,000 rows.
func BenchmarkWindow100kRows(b *testing.B) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("rn", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		{Name: []byte("s"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset},
		field("mn", mysql.MYSQL_TYPE_LONG, binaryCharset),
		field("p", mysql.MYSQL_TYPE_LONG, binaryCharset),
		field("v", mysql.MYSQL_TYPE_LONG, binaryCharset),
	}
	perShard := make([][][][]byte, 4)
	for id := 0; id < 100_000; id++ {
		row := [][]byte{[]byte(strconv.Itoa(id)), nil, nil, nil, []byte(strconv.Itoa(id % 100)), []byte(strconv.Itoa(id * 7 % 1000))}
		perShard[id%4] = append(perShard[id%4], row)
	}
	vc := shardResults(fields, perShard...)
	part := []OrderKey{{Col: 4, Weight: NoWeight}}
	order := []OrderKey{{Col: 0, Weight: NoWeight}}
	fn := func(k WindowKind, col, arg int) WindowFunc {
		return WindowFunc{Kind: k, Col: col, Arg: arg, ArgWeight: NoWeight, Default: NoColumn, DefaultWeight: NoWeight, Partition: part, Order: order}
	}
	w := &Window{Input: scatterRoute("q"), Trim: 2, Funcs: []WindowFunc{
		fn(WinRowNumber, 1, NoColumn), fn(WinSum, 2, 5), fn(WinMin, 3, 5),
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Execute(context.Background(), vc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
