package engine

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

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
