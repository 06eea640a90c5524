package gateway

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"
)

// sequences hands out auto-increment ids from sequence tables (Vitess's
// `CREATE TABLE user_seq (id BIGINT, next_id BIGINT, cache BIGINT, PRIMARY
// KEY (id)) COMMENT 'vitess_sequence'` with one row id = 0). Each gateway
// reserves a block of `cache` ids with one atomic UPDATE of that row and
// serves ids from memory until the block runs out; ids are never handed out
// before their block is reserved durably, so no restart or second gateway
// reuses one. Ids of a block left when the gateway stops are skipped.
type sequences struct {
	mu   sync.Mutex
	seqs map[string]*sequence // by "keyspace.table"
}

type sequence struct {
	mu        sync.Mutex
	next, end int64 // the reserved block [next, end)
	cache     int64 // block size, read from the row once
}

// next reserves n consecutive ids and returns the first. Consecutive ids
// for one statement are what MySQL's auto-increment promises (JDBC derives
// the generated keys of a batch from the first).
func (q *sequences) next(ctx context.Context, r *routing, keyspace, table string, n int64) (int64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("gateway: sequence %s.%s: asked for %d ids", keyspace, table, n)
	}
	key := keyspace + "." + table
	q.mu.Lock()
	if q.seqs == nil {
		q.seqs = map[string]*sequence{}
	}
	s := q.seqs[key]
	if s == nil {
		s = &sequence{}
		q.seqs[key] = s
	}
	q.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.end-s.next < n {
		if err := s.reserve(ctx, r, keyspace, table, n); err != nil {
			return 0, err
		}
	}
	first := s.next
	s.next += n
	return first, nil
}

// reserve takes a new block of max(cache, n) ids; what was left of the old
// block is skipped so the statement's ids stay consecutive.
func (s *sequence) reserve(ctx context.Context, r *routing, keyspace, table string, n int64) error {
	ranges, err := r.shardRanges(keyspace, topo.TabletPrimary, noReadSwitch)
	if err != nil {
		return err
	}
	pool, err := r.pool(keyspace, ranges[0].Name, topo.TabletPrimary, 0)
	if err != nil {
		return err
	}
	name := quoteIdent(keyspace) + "." + quoteIdent(table)
	if s.cache == 0 {
		res, err := pool.Execute(ctx, "select cache from "+name+" where id = 0")
		if err != nil {
			return err
		}
		if len(res.Rows) != 1 || res.Rows[0][0] == nil {
			return errNoSequenceRow(keyspace, table)
		}
		if s.cache, err = strconv.ParseInt(string(res.Rows[0][0]), 10, 64); err != nil || s.cache < 1 {
			s.cache = 1
		}
	}
	size := max(s.cache, n)
	// LAST_INSERT_ID(expr) makes the OK packet carry the new next_id: one
	// atomic statement both reserves the block and says where it ends.
	res, err := pool.Execute(ctx, fmt.Sprintf("update %s set next_id = last_insert_id(next_id + %d) where id = 0", name, size))
	if err != nil {
		return err
	}
	if res.RowsAffected != 1 {
		return errNoSequenceRow(keyspace, table)
	}
	s.end = int64(res.InsertID)
	s.next = s.end - size
	return nil
}

// errNoSequenceRow: the sequence table lacks the one row (id = 0) that
// holds its next id — a setup mistake in the user's data, not the gateway's.
func errNoSequenceRow(keyspace, table string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_UNKNOWN_ERROR, "sequence table %s.%s has no row with id = 0", keyspace, table)
}
