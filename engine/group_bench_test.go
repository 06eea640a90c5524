package engine

import (
	"context"
	"strconv"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// groupedShards: 4 shards of 1,000 partial rows (name, count, sum, weight)
// over 100 groups.
func groupedShards() *nopVCursor {
	fields := []*mysql.Field{
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("count(*)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("sum(x)", mysql.MYSQL_TYPE_NEWDECIMAL, binaryCharset),
		field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	vc := &nopVCursor{shards: mustShards("-40", "40-80", "80-c0", "c0-")}
	for s := 0; s < 4; s++ {
		r := &Result{Fields: fields}
		for i := 0; i < 1000; i++ {
			name := []byte("name" + strconv.Itoa(i%100))
			r.Rows = append(r.Rows, [][]byte{name, []byte("3"), []byte(strconv.Itoa(i)), name})
		}
		vc.results = append(vc.results, r)
	}
	return vc
}

// BenchmarkGroupAggregate merges 4,000 shard rows into 100 groups; compare
// with BenchmarkGroupAggregateBaseline (the same rows only concatenated)
// in the same run: the ratio is the cost of merging at the gateway.
func BenchmarkGroupAggregate(b *testing.B) {
	vc := groupedShards()
	g := &GroupAggregate{
		Input:      scatterRoute("q"),
		Keys:       []GroupKey{{Col: 0, Weight: 3}},
		Aggregates: []GroupAggregateColumn{{Op: AggrCount, Col: 1, Weight: NoWeight}, {Op: AggrSum, Col: 2, Weight: NoWeight}},
		Visible:    3,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Execute(context.Background(), vc, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGroupAggregateBaseline(b *testing.B) {
	vc := groupedShards()
	r := scatterRoute("q")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Execute(context.Background(), vc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
