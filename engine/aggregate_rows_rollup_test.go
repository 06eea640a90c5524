package engine

import (
	"context"
	"testing"
)

// WITH ROLLUP over single rows: the groups in key order, then the grand
// total, whose key column (and its weight, a result column too) is NULL;
// COUNT and SUM of the total are over every row, not re-added results.
func TestAggregateRowsRollup(t *testing.T) {
	a := &AggregateRows{
		Input: scatterRoute("q"),
		Keys:  []GroupKey{{Col: 0, Weight: 1}},
		Columns: []RowsColumn{
			{Col: 0, Weight: NoWeight},
			{Aggregate: true, Op: AggrCount, Col: NoColumn, Weight: NoWeight},
			{Aggregate: true, Op: AggrSum, Col: 2, Weight: NoWeight},
			{Aggregate: true, Op: AggrAvg, Col: 3, Weight: NoWeight},
			{Col: 1, Weight: NoWeight},
		},
		Rollup:  &Rollup{Desc: []bool{false}, Nulls: [][]int{{0, 4}}},
		Visible: 4,
	}
	r, err := a.Execute(context.Background(), aggregateRowsInput(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "(NULL,1,4,1.000000) (al,1,NULL,2.250000) (Bob,3,11,0.800000) (NULL,5,15,1.212500)"
	if got := show(r.Rows); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}

	// DESC, and HAVING over the total.
	a.Rollup.Desc[0] = true
	a.Having = IsNullExpr(ColumnExpr(4), false)
	r, err = a.Execute(context.Background(), aggregateRowsInput(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The NULL group sorts last descending; the total has no weight either.
	want = "(NULL,1,4,1.000000) (NULL,5,15,1.212500)"
	if got := show(r.Rows); got != want {
		t.Fatalf("desc, having: got %s, want %s", got, want)
	}
}
