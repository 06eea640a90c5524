package engine

import (
	"context"
	"slices"
	"sync"
)

// VEXPLAIN QUERIES and `shardctl explain` show the shard queries a plan
// sends by running it through a Recorder.

// ShardQuery is one query a plan sent to one shard.
type ShardQuery struct {
	Keyspace, Shard, Query string
}

// Recorder is a VCursor that passes every call to the wrapped one and
// records the shard queries, in the order they were sent.
type Recorder struct {
	VCursor
	mu      sync.Mutex
	queries []ShardQuery
}

var _ VCursor = (*Recorder)(nil)

// NewRecorder wraps vc.
func NewRecorder(vc VCursor) *Recorder { return &Recorder{VCursor: vc} }

func (r *Recorder) record(keyspace string, shards, queries []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, s := range shards {
		r.queries = append(r.queries, ShardQuery{Keyspace: keyspace, Shard: s, Query: queries[i]})
	}
}

// Queries returns the recorded shard queries.
func (r *Recorder) Queries() []ShardQuery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.queries)
}

// ExecuteMulti implements VCursor.
func (r *Recorder) ExecuteMulti(ctx context.Context, keyspace string, shards []string, queries []string) ([]*Result, error) {
	r.record(keyspace, shards, queries)
	return r.VCursor.ExecuteMulti(ctx, keyspace, shards, queries)
}

// StreamMulti implements VCursor.
func (r *Recorder) StreamMulti(ctx context.Context, keyspace string, shards []string, queries []string, fn func(int, *Result) error) error {
	r.record(keyspace, shards, queries)
	return r.VCursor.StreamMulti(ctx, keyspace, shards, queries, fn)
}
