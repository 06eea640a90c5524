package engine

import (
	"context"
)

// ReferenceWrite sends an INSERT, UPDATE or DELETE of a reference table to
// every copy: first its source table in an unsharded keyspace (the source
// of truth, when the vschema names one), then every shard of its keyspace.
// The copies commit together when the session's transaction mode makes
// multi-shard writes atomic.
type ReferenceWrite struct {
	Op             string // "Insert", "Update" or "Delete"
	Keyspace       string
	Table          string
	SourceKeyspace string // "" when the table has no source
	Query          *Template
}

var _ Primitive = (*ReferenceWrite)(nil)

// Execute implements Primitive. The result is one copy's: the source's
// when there is one, else the first shard's (every copy holds the same rows).
func (rw *ReferenceWrite) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	q, err := rw.Query.render(&renderEnv{args: args})
	if err != nil {
		return nil, err
	}
	var out *Result
	if rw.SourceKeyspace != "" {
		ss, err := vc.Shards(ctx, rw.SourceKeyspace)
		if err != nil {
			return nil, err
		}
		if len(ss) == 0 {
			return nil, errNoShards(rw.SourceKeyspace)
		}
		rs, err := vc.ExecuteMulti(ctx, rw.SourceKeyspace, []string{ss[0].Name}, []string{q})
		if err != nil {
			return nil, err
		}
		out = rs[0]
	}
	ss, err := vc.Shards(ctx, rw.Keyspace)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, errNoShards(rw.Keyspace)
	}
	shards := make([]string, len(ss))
	queries := make([]string, len(ss))
	for i, s := range ss {
		shards[i], queries[i] = s.Name, q
	}
	rs, err := vc.ExecuteMulti(ctx, rw.Keyspace, shards, queries)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = rs[0]
	}
	return &Result{RowsAffected: out.RowsAffected, InsertID: out.InsertID, Warnings: out.Warnings}, nil
}

// Stream implements Primitive.
func (rw *ReferenceWrite) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := rw.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (rw *ReferenceWrite) Inputs() []Primitive { return nil }

func (rw *ReferenceWrite) description() Description {
	other := map[string]any{"Table": rw.Table, "Query": rw.Query.String()}
	if rw.SourceKeyspace != "" {
		other["Source"] = rw.SourceKeyspace + "." + rw.Table
	}
	return Description{OperatorType: rw.Op, Variant: "Reference", Keyspace: rw.Keyspace, Sharded: true, Other: other}
}
