package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// joinCursor answers the outer query (text "outer") and the inner one.
func joinCursor(outer, inner *Result) *fakeVCursor {
	vc := newFakeVCursor()
	vc.results = func(_, _, q string) (*Result, error) {
		if strings.HasPrefix(q, "outer") {
			return outer, nil
		}
		return inner, nil
	}
	return vc
}

func TestJoinPairsByValueAndKeepsOuterRows(t *testing.T) {
	text := field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI)
	ws := field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset)
	num := field("n", mysql.MYSQL_TYPE_LONG, binaryCharset)
	outer := &Result{Fields: []*mysql.Field{num, text, ws}, Rows: rows(
		[]string{"1", "Bob", "BOB"}, []string{"2", "al", "AL"}, []string{"3", "NULL", "NULL"})}
	inner := &Result{Fields: []*mysql.Field{num, text, ws}, Rows: rows(
		[]string{"10", "bob", "BOB"}, []string{"11", "BOB", "BOB"})}
	j := &Join{
		Left:    &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: TextTemplate("outer")},
		Right:   &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: mustTemplate(t, "inner where x in (\x00v0\x00)")},
		Outer:   true,
		LeftKey: GroupKey{Col: -2, Weight: -1}, RightKey: GroupKey{Col: -2, Weight: -1},
		LeftHidden: 2, RightHidden: 2,
		Cols: []JoinColumn{{Col: 0}, {Right: true, Col: 0}},
	}
	vc := joinCursor(outer, inner)
	r, err := j.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Bob matches bob and BOB (same weight); al and NULL keep NULLs.
	if got, want := show(r.Rows), "(1,10) (1,11) (2,NULL) (3,NULL)"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// The inner side got the distinct non-NULL outer values.
	for _, l := range vc.log {
		if strings.Contains(l, "inner") && !strings.HasSuffix(l, "in ('Bob', 'al')") {
			t.Fatalf("inner query %q, want the distinct non-NULL outer values", l)
		}
	}

	// A number joined with a string is refused, not compared as text.
	inner.Fields = []*mysql.Field{num, num, ws}
	if _, err := j.Execute(context.Background(), joinCursor(outer, inner), nil); err == nil || !strings.Contains(err.Error(), "different types") {
		t.Fatalf("got %v, want a refusal", err)
	}
}

func mustTemplate(t *testing.T, s string) *Template {
	t.Helper()
	tm, err := CompileTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// budgetCursor is a joinCursor with a row budget.
type budgetCursor struct {
	*fakeVCursor
	left int
}

func (b *budgetCursor) TakeRows(n int) error {
	if b.left -= n; b.left < 0 {
		return errOutOfRows
	}
	return nil
}

var errOutOfRows = unsupported("test: out of rows")

func TestCrossJoinWithConditionPairsEveryRowAndCountsThem(t *testing.T) {
	num := field("n", mysql.MYSQL_TYPE_LONG, binaryCharset)
	outer := &Result{Fields: []*mysql.Field{num}, Rows: rows([]string{"1"}, []string{"5"}, []string{"NULL"})}
	inner := &Result{Fields: []*mysql.Field{num}, Rows: rows([]string{"2"}, []string{"3"}, []string{"9"})}
	// u.n > o.n, LEFT JOIN: 1 has no pair, 5 pairs with 2 and 3, NULL none.
	j := &Join{
		Left:  outerRoute(),
		Right: &Route{Routing: Routing{Opcode: Scatter, Keyspace: "service", Sharded: true}, Query: TextTemplate("inner")},
		Outer: true, Cross: true,
		On:   BinaryExpr(OpGT, ColumnExpr(0), ColumnExpr(1)),
		Cols: []JoinColumn{{Col: 0}, {Right: true, Col: 0}},
	}
	vc := joinCursor(outer, inner)
	r, err := j.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The inner side ran once on each shard (4 shards, the rows 4 times).
	if got, want := show(r.Rows), "(1,NULL) (5,2) (5,3) (5,2) (5,3) (5,2) (5,3) (5,2) (5,3) (NULL,NULL)"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if n := len(vc.log); n != 5 {
		t.Fatalf("%d shard queries, want 5: %v", n, vc.log)
	}
	// Past the row budget the join fails instead of growing.
	_, err = j.Execute(context.Background(), &budgetCursor{fakeVCursor: joinCursor(outer, inner), left: 5}, nil)
	if err != errOutOfRows {
		t.Fatalf("got %v, want the budget's error", err)
	}
	j.On = nil
	j.Outer = false
	r, err = j.Execute(context.Background(), joinCursor(outer, inner), nil)
	if err != nil || len(r.Rows) != 3*12 {
		t.Fatalf("cross join: got %d rows, %v; want 36", len(r.Rows), err)
	}
}

func TestJoinOnTwoEqualitiesMatchesBothByCollationWeights(t *testing.T) {
	text := field("city", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI)
	ws := field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset)
	num := field("n", mysql.MYSQL_TYPE_LONG, binaryCharset)
	// Columns: id, code, weight(code), city, weight(city).
	outer := &Result{Fields: []*mysql.Field{num, num, ws, text, ws}, Rows: rows(
		[]string{"1", "7", "7", "Seoul", "SEOUL"}, []string{"2", "7", "7", "Busan", "BUSAN"}, []string{"3", "7", "7", "NULL", "NULL"})}
	inner := &Result{Fields: []*mysql.Field{num, num, ws, text, ws}, Rows: rows(
		[]string{"10", "7", "7", "seoul", "SEOUL"}, []string{"11", "7", "7", "Tokyo", "TOKYO"}, []string{"12", "8", "8", "Busan", "BUSAN"})}
	j := &Join{
		Left:    outerRoute(),
		Right:   &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: mustTemplate(t, "inner where x in (\x00v0\x00)")},
		Outer:   true,
		LeftKey: GroupKey{Col: 1, Weight: 2}, RightKey: GroupKey{Col: 1, Weight: 2},
		MoreKeys: []JoinKeyPair{{Left: GroupKey{Col: 3, Weight: 4}, Right: GroupKey{Col: 3, Weight: 4}}},
		Cols:     []JoinColumn{{Col: 0}, {Right: true, Col: 0}},
	}
	r, err := j.Execute(context.Background(), joinCursor(outer, inner), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Seoul = seoul on both keys; Busan's code differs; a NULL city
	// matches nothing.
	if got, want := show(r.Rows), "(1,10) (2,NULL) (3,NULL)"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
