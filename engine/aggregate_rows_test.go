package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// aggregateRowsInput is a derived table's rows: name (with its
// weight_string), an integer and a DECIMAL(8,2).
func aggregateRowsInput() *fakeVCursor {
	fields := []*mysql.Field{
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("n", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		{Name: []byte("p"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset, Decimal: 2},
	}
	// "Bob" and "bob " are one group (case-insensitive, PAD SPACE).
	return shardResults(fields,
		rows([]string{"Bob", "\x00B\x00O\x00B", "3", "1.50"}, []string{"al", "\x00A\x00L", "NULL", "2.25"}),
		rows([]string{"bob ", "\x00B\x00O\x00B\x00\x20", "3", "NULL"}, []string{"NULL", "NULL", "4", "1.00"}),
		rows([]string{"bob", "\x00B\x00O\x00B", "5", "0.10"}),
	)
}

func TestAggregateRowsGroups(t *testing.T) {
	a := &AggregateRows{
		Input: scatterRoute("q"),
		Keys:  []GroupKey{{Col: 0, Weight: 1}},
		Columns: []RowsColumn{
			{Col: 0, Weight: NoWeight},
			{Aggregate: true, Op: AggrCount, Col: NoColumn, Weight: NoWeight},
			{Aggregate: true, Op: AggrCount, Col: 2, Weight: NoWeight},
			{Aggregate: true, Op: AggrSum, Col: 2, Weight: NoWeight},
			{Aggregate: true, Op: AggrAvg, Col: 3, Weight: NoWeight},
			{Aggregate: true, Op: AggrCountDistinct, Col: 2, Weight: NoWeight, Distinct: []GroupKey{{Col: 2, Weight: NoWeight}}},
			{Col: 1, Weight: NoWeight}, // the key's weight, to order by
		},
		Order:   []OrderKey{{Col: 0, Weight: 6}},
		Visible: 6,
	}
	r, err := a.Execute(context.Background(), aggregateRowsInput(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Bob: 3 rows, n 3, 3, 5 (two distinct), avg of 1.50 and 0.10 at
	// DECIMAL(…,6): 0.800000. NULL groups first.
	want := "(NULL,1,1,4,1.000000,1) (al,1,0,NULL,2.250000,0) (Bob,3,3,11,0.800000,2)"
	if got := show(r.Rows); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if len(r.Fields) != 6 || r.Fields[1].Type != mysql.MYSQL_TYPE_LONGLONG || r.Fields[4].Decimal != 6 {
		t.Fatalf("got fields %v, want 6 with COUNT a BIGINT and AVG of scale 6", r.Fields)
	}
}

func TestAggregateRowsScalarFilterAndMax(t *testing.T) {
	// WHERE n > 3 keeps "bob" (5) and NULL (4); MAX(name) by weight.
	filter := BinaryExpr(OpGT, ColumnExpr(2), mustNumber(t, int64(3)))
	a := &AggregateRows{
		Input:  &Filter{Input: scatterRoute("q"), Predicate: filter},
		Scalar: true,
		Columns: []RowsColumn{
			{Aggregate: true, Op: AggrCount, Col: NoColumn, Weight: NoWeight},
			{Aggregate: true, Op: AggrMax, Col: 0, Weight: 1},
			{Aggregate: true, Op: AggrSum, Col: 3, Weight: NoWeight},
		},
		Visible: 3,
	}
	r, err := a.Execute(context.Background(), aggregateRowsInput(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(2,bob,1.10)"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// Over no rows, a scalar aggregate still has its row.
	a.Input = &Filter{Input: scatterRoute("q"), Predicate: BinaryExpr(OpGT, ColumnExpr(2), mustNumber(t, int64(100)))}
	if r, err = a.Execute(context.Background(), aggregateRowsInput(), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(0,NULL,NULL)"; got != want {
		t.Fatalf("over no rows: got %s, want %s", got, want)
	}
}

func TestAggregateRowsRefusesStringKeyWithoutWeight(t *testing.T) {
	a := &AggregateRows{
		Input:   scatterRoute("q"),
		Keys:    []GroupKey{{Col: 0, Weight: NoWeight}},
		Columns: []RowsColumn{{Col: 0, Weight: NoWeight}},
		Visible: 1,
	}
	_, err := a.Execute(context.Background(), aggregateRowsInput(), nil)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_NOT_SUPPORTED_YET {
		t.Fatalf("got %v, want error 1235", err)
	}
}

func mustNumber(t *testing.T, v any) Expr {
	t.Helper()
	e, ok := NumberExpr(v)
	if !ok {
		t.Fatalf("no number expression for %v", v)
	}
	return e
}
