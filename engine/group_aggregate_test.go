package engine

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestGroupAggregateMerge(t *testing.T) {
	// name, count(*), avg(x), sum(x), count(x), weight_string(name)
	fields := []*mysql.Field{
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("count(*)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		{Name: []byte("avg(x)"), Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: binaryCharset, Decimal: 4},
		field("sum(x)", mysql.MYSQL_TYPE_NEWDECIMAL, binaryCharset),
		field("count(x)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	g := &GroupAggregate{
		Input: scatterRoute("q"),
		Keys:  []GroupKey{{Col: 0, Weight: 5}},
		Aggregates: []GroupAggregateColumn{
			{Op: AggrCount, Col: 1, Weight: NoWeight},
			{Op: AggrAvg, Col: 2, Sum: 3, Count: 4, Weight: NoWeight},
		},
		Order:   []OrderKey{{Col: 0, Weight: 5}},
		Visible: 3,
	}
	// "Bob" and "bob " are one group (case-insensitive, PAD SPACE): the
	// weights differ only by a trailing space's weight.
	vc := shardResults(fields,
		rows([]string{"Bob", "2", "1.5000", "3", "2", "\x00B\x00O\x00B"}, []string{"al", "1", "NULL", "NULL", "0", "\x00A\x00L"}),
		rows([]string{"bob ", "1", "2.0000", "2", "1", "\x00B\x00O\x00B\x00\x20"}, []string{"NULL", "4", "1.0000", "4", "4", "NULL"}),
	)
	r, err := g.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 5/3 = 1.6667 (rounded half up at AVG's scale); al has no x: NULL;
	// NULL sorts first.
	if got, want := show(r.Rows), "(NULL,4,1.0000) (al,1,NULL) (Bob,3,1.6667)"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if len(r.Fields) != 3 {
		t.Fatalf("got %d fields, want 3", len(r.Fields))
	}

	// A scalar aggregate over no rows still has its row.
	g = &GroupAggregate{Input: scatterRoute("q"), Scalar: true, Visible: 2,
		Aggregates: []GroupAggregateColumn{{Op: AggrCount, Col: 1, Weight: NoWeight}, {Op: AggrAvg, Col: 2, Sum: 3, Count: 4}}}
	r, err = g.Execute(context.Background(), shardResults(fields, rows(), rows()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(NULL,0)"; got != want {
		t.Fatalf("scalar over nothing: got %s, want %s", got, want)
	}
}
