package topo

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// CreateShard creates a shard of an existing keyspace (ErrNoNode if the
// keyspace doesn't exist, ErrNodeExists if the shard does). Name must be a
// key range in canonical form ("-80", "80-", "40-80"), or "0" or "-" for
// the whole keyspace; KeyRange is set from it. The shard is Serving if it
// overlaps no existing shard. CreateShard then rebuilds the keyspace's
// serving graph.
func (s *Store) CreateShard(ctx context.Context, sh *Shard) error {
	if err := checkName("keyspace", sh.Keyspace); err != nil {
		return err
	}
	kr, err := shardKeyRange(sh.Name)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("shard %s/%s", sh.Keyspace, sh.Name)
	ksKey, key, prefix := s.keyspaceKey(sh.Keyspace), s.shardKey(sh.Keyspace, sh.Name), s.shardsPrefix(sh.Keyspace)
	err = retry(ctx, "create "+what, func() (bool, error) {
		resp, err := s.cli.Txn(ctx).Then(
			clientv3.OpGet(ksKey),
			clientv3.OpGet(prefix, clientv3.WithPrefix()),
		).Commit()
		if err != nil {
			return false, fmt.Errorf("topo: create %s: %w", what, err)
		}
		if len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
			return false, fmt.Errorf("create %s: keyspace %q: %w", what, sh.Keyspace, ErrNoNode)
		}
		existing, err := decodeAll[Shard](resp.Responses[1].GetResponseRange().Kvs, "shard")
		if err != nil {
			return false, err
		}
		serving := true
		for _, o := range existing {
			if o.Name == sh.Name {
				return false, fmt.Errorf("%s: %w", what, ErrNodeExists)
			}
			if o.KeyRange.Intersects(kr) {
				serving = false
			}
		}
		n := *sh
		n.KeyRange, n.Serving = kr, serving
		data, err := json.Marshal(n)
		if err != nil {
			return false, fmt.Errorf("topo: encode %s: %w", what, err)
		}
		put, err := s.cli.Txn(ctx).
			If(unchangedSince(prefix, resp.Header.Revision), absent(key)).
			Then(clientv3.OpPut(key, string(data))).
			Commit()
		if err != nil {
			return false, fmt.Errorf("topo: create %s: %w", what, err)
		}
		if put.Succeeded {
			sh.KeyRange, sh.Serving = kr, serving
		}
		return put.Succeeded, nil
	})
	if err != nil {
		return err
	}
	return s.RebuildSrvKeyspace(ctx, sh.Keyspace)
}

// GetShard returns a shard; ErrNoNode if it doesn't exist.
func (s *Store) GetShard(ctx context.Context, keyspace, name string) (*Shard, error) {
	var sh Shard
	if _, err := s.get(ctx, s.shardKey(keyspace, name), fmt.Sprintf("shard %s/%s", keyspace, name), &sh); err != nil {
		return nil, err
	}
	return &sh, nil
}

// ListShards returns the shards of a keyspace in key order; ErrNoNode if
// the keyspace doesn't exist.
func (s *Store) ListShards(ctx context.Context, keyspace string) ([]*Shard, error) {
	resp, err := s.cli.Txn(ctx).Then(
		clientv3.OpGet(s.keyspaceKey(keyspace), clientv3.WithCountOnly()),
		clientv3.OpGet(s.shardsPrefix(keyspace), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, fmt.Errorf("topo: list shards of %q: %w", keyspace, err)
	}
	if resp.Responses[0].GetResponseRange().Count == 0 {
		return nil, fmt.Errorf("keyspace %q: %w", keyspace, ErrNoNode)
	}
	shards, err := decodeAll[Shard](resp.Responses[1].GetResponseRange().Kvs, "shard")
	if err != nil {
		return nil, err
	}
	sortShards(shards)
	return shards, nil
}

// UpdateShard changes a shard with fn in a compare-and-swap loop: fn gets
// the current shard and may be called more than once. fn may return
// ErrNoUpdateNeeded to write nothing. fn must not change the keyspace,
// name or key range. UpdateShard doesn't rebuild the serving graph; call
// RebuildSrvKeyspace after changing Serving.
func (s *Store) UpdateShard(ctx context.Context, keyspace, name string, fn func(*Shard) error) error {
	what := fmt.Sprintf("shard %s/%s", keyspace, name)
	return updateJSON(ctx, s, s.shardKey(keyspace, name), what, fn, func(old, n *Shard) error {
		if n.Keyspace != old.Keyspace || n.Name != old.Name || n.KeyRange.String() != old.KeyRange.String() {
			return fmt.Errorf("update %s: the keyspace, name and key range can't change: %w", what, ErrInvalid)
		}
		return nil
	})
}

// DeleteShard removes a shard that doesn't serve (a resharding target
// being cancelled): ErrNoNode if it doesn't exist, ErrInvalid if it
// serves. Its tablets are not deleted. Partitions never name a shard that
// doesn't serve, so the serving graph's rebuild (whose guard doesn't see
// deletions) derives the same graph with or without it.
func (s *Store) DeleteShard(ctx context.Context, keyspace, name string) error {
	what := fmt.Sprintf("shard %s/%s", keyspace, name)
	key := s.shardKey(keyspace, name)
	return retry(ctx, "delete "+what, func() (bool, error) {
		data, rev, err := s.getRaw(ctx, key, what)
		if err != nil {
			return false, err
		}
		var sh Shard
		if err := json.Unmarshal(data, &sh); err != nil {
			return false, fmt.Errorf("topo: decode %s: %w", what, err)
		}
		if sh.Serving {
			return false, fmt.Errorf("delete %s: it serves traffic: %w", what, ErrInvalid)
		}
		resp, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpDelete(key)).
			Commit()
		if err != nil {
			return false, fmt.Errorf("topo: delete %s: %w", what, err)
		}
		return resp.Succeeded, nil
	})
}
