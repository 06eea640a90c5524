package engine

import (
	"context"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// QueryStatsReader is the part of a session that SHOW QUERY STATS reads:
// the gateway's query digests. A session without it (an offline
// explain) answers the statement with an error.
type QueryStatsReader interface {
	// QueryStats lists the digests, the most time-consuming first.
	QueryStats() []QueryStat
}

// QueryStat is one query digest as SHOW QUERY STATS shows it.
type QueryStat struct {
	Digest, Keyspace, Query           string
	Count, Errors, Rows, ShardQueries uint64
	Total, P50, P99                   time.Duration
}

// ShowQueryStats answers SHOW QUERY STATS: the gateway's statements by
// normalised text, with counts and latencies (docs/OBSERVABILITY.md).
type ShowQueryStats struct{}

var queryStatsColumns = []string{"Digest", "Keyspace", "Query", "Count", "Errors", "Rows", "Shard_queries", "Total_ms", "P50_ms", "P99_ms"}

// Execute implements Primitive.
func (*ShowQueryStats) Execute(_ context.Context, vc VCursor, _ []any) (*Result, error) {
	r, ok := vc.Session().(QueryStatsReader)
	if !ok || r == nil {
		return nil, errNoSession("SHOW QUERY STATS")
	}
	text := TextFields(queryStatsColumns...)
	fields := []*mysql.Field{text[0], text[1], text[2],
		UintField("Count"), UintField("Errors"), UintField("Rows"), UintField("Shard_queries"),
		text[7], text[8], text[9]}
	res := &Result{Fields: fields}
	for _, q := range r.QueryStats() {
		res.Rows = append(res.Rows, [][]byte{
			[]byte(q.Digest), []byte(q.Keyspace), []byte(q.Query),
			strconv.AppendUint(nil, q.Count, 10), strconv.AppendUint(nil, q.Errors, 10),
			strconv.AppendUint(nil, q.Rows, 10), strconv.AppendUint(nil, q.ShardQueries, 10),
			millis(q.Total), millis(q.P50), millis(q.P99),
		})
	}
	return res, nil
}

func millis(d time.Duration) []byte {
	return strconv.AppendFloat(nil, float64(d)/float64(time.Millisecond), 'f', 3, 64)
}

// Stream implements Primitive.
func (s *ShowQueryStats) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, s, vc, args, fn)
}

// Inputs implements Primitive.
func (*ShowQueryStats) Inputs() []Primitive { return nil }

func (*ShowQueryStats) description() Description {
	return Description{OperatorType: "ShowExec", Variant: "QUERY_STATS"}
}
