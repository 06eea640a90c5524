package engine

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/vindex"
)

// Result is what a primitive returns: the backend's column metadata and
// text-protocol rows, or the counts of a write.
type Result struct {
	Fields       []*mysql.Field // as the backend sent them
	Rows         [][][]byte     // text-protocol values; nil is NULL
	RowsAffected uint64
	InsertID     uint64
	Warnings     uint16
	// RowsMatched counts the rows an UPDATE matched, changed or not, when
	// MatchedKnown: what a client with CLIENT_FOUND_ROWS is told.
	RowsMatched  uint64
	MatchedKnown bool
}

// ShardRange names a serving shard and the keyspace ids it holds.
type ShardRange struct {
	Name     string
	KeyRange vindex.KeyRange
}

// VCursor is the gateway seen from a plan: the serving graph and a way to
// run queries on shards. The engine declares it; the gateway implements it
// (per session, carrying transactions and the target tablet type), tests
// use a logging fake.
type VCursor interface {
	// Shards lists a keyspace's serving shards in key order, from the
	// serving graph (never a fixed list).
	Shards(ctx context.Context, keyspace string) ([]ShardRange, error)
	// ExecuteMulti runs queries[i] on shard shards[i] of keyspace, in
	// parallel when more than one, and returns results in the same order.
	// The first error wins.
	ExecuteMulti(ctx context.Context, keyspace string, shards []string, queries []string) ([]*Result, error)
	// StreamMulti is ExecuteMulti without buffering. Calls to fn are
	// serialised by the gateway; fn(shardIdx, r) sees each shard's Fields
	// first, then its row batches. An error from fn stops the stream and is
	// returned.
	StreamMulti(ctx context.Context, keyspace string, shards []string, queries []string, fn func(shardIdx int, r *Result) error) error
	// AutoAddTable is called after a CREATE TABLE in a sharded keyspace whose
	// vschema lacks the table: the gateway adds it with the keyspace's
	// default vindex on column and returns the vindex's name.
	AutoAddTable(ctx context.Context, keyspace, table, column string) (vindexName string, err error)
	// AddWarning attaches a warning to the session's current statement.
	AddWarning(code uint16, msg string)
	// NextSequenceValues reserves n consecutive ids from a sequence table
	// (in an unsharded keyspace) and returns the first.
	NextSequenceValues(ctx context.Context, keyspace, table string, n int64) (int64, error)
	// Session is the gateway's session state for the primitives that
	// answer from it (session.go); nil where there is none (offline).
	Session() SessionActions
}

// concatResults merges shard results of one query: the first shard's
// fields, every row in shard order, counts and warnings added up, the
// first non-zero insert id.
func concatResults(rs []*Result) *Result {
	if len(rs) == 1 && rs[0] != nil {
		return rs[0]
	}
	out := &Result{}
	n := 0
	for _, r := range rs {
		if r != nil {
			n += len(r.Rows)
		}
	}
	if n > 0 {
		out.Rows = make([][][]byte, 0, n)
	}
	for _, r := range rs {
		if r == nil {
			continue
		}
		if out.Fields == nil {
			out.Fields = r.Fields
		}
		out.Rows = append(out.Rows, r.Rows...)
		out.RowsAffected += r.RowsAffected
		if r.MatchedKnown {
			out.RowsMatched += r.RowsMatched
			out.MatchedKnown = true
		} else {
			out.RowsMatched += r.RowsAffected
		}
		if out.InsertID == 0 {
			out.InsertID = r.InsertID
		}
		out.Warnings = addWarnings(out.Warnings, r.Warnings)
	}
	return out
}

func addWarnings(a, b uint16) uint16 {
	if s := uint32(a) + uint32(b); s < 0xffff {
		return uint16(s)
	}
	return 0xffff
}
