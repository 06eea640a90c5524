package engine

import "context"

// Send sends a statement unchanged to one shard of a keyspace: the one
// named, or, when Shard is empty, any serving shard, chosen at run time
// from the serving graph. It is the one place that picks "a shard of
// keyspace X" (SHOW, SET values that read state, prepare metadata): every
// shard of a keyspace has the same schema and server settings, so any
// one's answer is the answer.
type Send struct {
	Keyspace string
	Sharded  bool
	// Shard is the shard to ask; "" is any serving shard.
	Shard string
	Query string
}

// ResolveShard returns the shard Send runs on now.
func (s *Send) ResolveShard(ctx context.Context, vc VCursor) (string, error) {
	if s.Shard != "" {
		return s.Shard, nil
	}
	shards, err := vc.Shards(ctx, s.Keyspace)
	if err != nil {
		return "", err
	}
	if len(shards) == 0 {
		return "", errInternal("no serving shards for keyspace %s", s.Keyspace)
	}
	return shards[0].Name, nil
}

// Execute implements Primitive.
func (s *Send) Execute(ctx context.Context, vc VCursor, _ []any) (*Result, error) {
	shard, err := s.ResolveShard(ctx, vc)
	if err != nil {
		return nil, err
	}
	rs, err := vc.ExecuteMulti(ctx, s.Keyspace, []string{shard}, []string{s.Query})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// Stream implements Primitive.
func (s *Send) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, s, vc, args, fn)
}

// Inputs implements Primitive.
func (s *Send) Inputs() []Primitive { return nil }

func (s *Send) description() Description {
	dest := "AnyShard()"
	if s.Shard != "" {
		dest = "Shard(" + s.Shard + ")"
	}
	return Description{
		OperatorType: "Send",
		Keyspace:     s.Keyspace,
		Sharded:      s.Sharded,
		Other:        map[string]any{"TargetDestination": dest, "Query": s.Query},
	}
}
