package engine

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The rows of MariaDB 10.11's answer to
//
//	select a, b, sum(c), count(*) from t group by a, b with rollup
//
// over (1,'x',1,1.5) (2,'x',2,2.25) (3,'y',1,NULL) (4,NULL,3,4) (5,'Y',2,5.5),
// here split over two shards that each grouped without ROLLUP.
func TestGroupAggregateRollup(t *testing.T) {
	fields := []*mysql.Field{
		field("a", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("b", mysql.MYSQL_TYPE_LONG, binaryCharset),
		{Name: []byte("sum(c)"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset, Decimal: 2},
		field("count(*)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("ws_a", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("ws_b", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	shards := func() *fakeVCursor {
		return shardResults(fields,
			rows([]string{"x", "1", "1.50", "1", "\x00X", "1"}, []string{"Y", "2", "5.50", "1", "\x00Y", "2"}),
			rows([]string{"x", "2", "2.25", "1", "\x00X", "2"}, []string{"y", "1", "NULL", "1", "\x00Y", "1"}, []string{"NULL", "3", "4.00", "1", "NULL", "3"}),
		)
	}
	rollup := func(desc bool) *GroupAggregate {
		return &GroupAggregate{
			Input: scatterRoute("q"),
			Keys:  []GroupKey{{Col: 0, Weight: 4}, {Col: 1, Weight: 5}},
			Aggregates: []GroupAggregateColumn{
				{Op: AggrSum, Col: 2, Weight: NoWeight},
				{Op: AggrCount, Col: 3, Weight: NoWeight},
			},
			Rollup:  &Rollup{Desc: []bool{desc, false}, Nulls: [][]int{{0, 4}, {1, 5}}},
			Visible: 4,
		}
	}
	r, err := rollup(false).Execute(context.Background(), shards(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "(NULL,3,4.00,1) (NULL,NULL,4.00,1) (x,1,1.50,1) (x,2,2.25,1) (x,NULL,3.75,2) (y,1,NULL,1) (Y,2,5.50,1) (Y,NULL,5.50,2) (NULL,NULL,13.25,5)"
	if got := show(r.Rows); got != want {
		t.Fatalf("group by a, b with rollup:\n got %s\nwant %s", got, want)
	}

	// GROUP BY a DESC, b: the super-aggregate row of a group keeps the
	// spelling of its last row, as MariaDB's does.
	r, err = rollup(true).Execute(context.Background(), shards(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want = "(y,1,NULL,1) (Y,2,5.50,1) (Y,NULL,5.50,2) (x,1,1.50,1) (x,2,2.25,1) (x,NULL,3.75,2) (NULL,3,4.00,1) (NULL,NULL,4.00,1) (NULL,NULL,13.25,5)"
	if got := show(r.Rows); got != want {
		t.Fatalf("group by a desc, b with rollup:\n got %s\nwant %s", got, want)
	}

	// HAVING sees the super-aggregate rows: MariaDB's
	// having a is null keeps (NULL,3), (NULL,NULL) and the grand total.
	g := rollup(false)
	g.Having = IsNullExpr(ColumnExpr(0), false)
	r, err = g.Execute(context.Background(), shards(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want = "(NULL,3,4.00,1) (NULL,NULL,4.00,1) (NULL,NULL,13.25,5)"
	if got := show(r.Rows); got != want {
		t.Fatalf("having a is null:\n got %s\nwant %s", got, want)
	}

	// No rows: no groups, no grand total.
	r, err = rollup(false).Execute(context.Background(), shardResults(fields, rows(), rows()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := show(r.Rows); got != "" {
		t.Fatalf("over no rows: got %s, want nothing", got)
	}
}
