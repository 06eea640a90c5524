package gateway

import (
	"sync/atomic"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// DefaultMaxBufferedRows is Config.MaxBufferedRows when it is not set.
const DefaultMaxBufferedRows = 100_000

// rowBudget bounds the rows one statement holds in the gateway's memory at
// once (not the rows it streams): shard results read whole
// (ExecuteMulti: an aggregate's inputs, writes, SHOWs) and everything a
// primitive executed without streaming collects. Exceeding it is
// ER_OUT_OF_RESOURCES, not an out-of-memory. Shards' readers share it, so
// it is atomic.
type rowBudget struct {
	max  int64
	used atomic.Int64
}

func newRowBudget(max int) *rowBudget {
	if max <= 0 {
		max = DefaultMaxBufferedRows
	}
	return &rowBudget{max: int64(max)}
}

// reset makes b a fresh budget of max rows (the session's reused cursor
// keeps its budget from one statement to the next).
func (b *rowBudget) reset(max int) {
	if max <= 0 {
		max = DefaultMaxBufferedRows
	}
	b.max = int64(max)
	b.used.Store(0)
}

// take accounts for n more buffered rows.
func (b *rowBudget) take(n int) error {
	if b.used.Add(int64(n)) <= b.max {
		return nil
	}
	return sqlerror.New(sqlerror.User, mysql.ER_OUT_OF_RESOURCES,
		"Out of resources: the statement needs more than %d rows buffered at the gateway (--max-buffered-rows); stream it (a SELECT without aggregation), add a LIMIT, or run it on one shard", b.max)
}

var _ engine.RowBudget = (*vcursor)(nil)

// TakeRows implements engine.RowBudget: rows a primitive makes at the
// gateway (a join's pairs) count against the statement's budget.
func (vc *vcursor) TakeRows(n int) error { return vc.budget.take(n) }
