package topo

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// AddTablet records a tablet of an existing shard: ErrNoNode if the shard
// doesn't exist, ErrNodeExists if the alias is taken. It doesn't change
// the shard: naming a primary is UpdateShard's job.
func (s *Store) AddTablet(ctx context.Context, t *Tablet) error {
	if err := t.validate(); err != nil {
		return err
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("topo: encode tablet %s: %w", t.Alias, err)
	}
	key, shardKey := s.tabletKey(t.Alias), s.shardKey(t.Keyspace, t.Shard)
	resp, err := s.cli.Txn(ctx).
		If(absent(key), present(shardKey)).
		Then(clientv3.OpPut(key, string(data))).
		Else(clientv3.OpGet(key, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return fmt.Errorf("topo: add tablet %s: %w", t.Alias, err)
	}
	if !resp.Succeeded {
		if resp.Responses[0].GetResponseRange().Count > 0 {
			return fmt.Errorf("tablet %s: %w", t.Alias, ErrNodeExists)
		}
		return fmt.Errorf("add tablet %s: shard %s/%s: %w", t.Alias, t.Keyspace, t.Shard, ErrNoNode)
	}
	return nil
}

// GetTablet returns a tablet; ErrNoNode if it doesn't exist.
func (s *Store) GetTablet(ctx context.Context, alias TabletAlias) (*Tablet, error) {
	var t Tablet
	if _, err := s.get(ctx, s.tabletKey(alias), "tablet "+alias.String(), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListTablets returns every tablet, ordered by alias (cell, then UID).
func (s *Store) ListTablets(ctx context.Context) ([]*Tablet, error) {
	return listJSON[Tablet](ctx, s, s.tabletsDir(), "tablets")
}

// UpdateTablet changes a tablet with fn in a compare-and-swap loop: fn gets
// the current tablet and may be called more than once. fn may return
// ErrNoUpdateNeeded to write nothing. fn must not change the alias.
func (s *Store) UpdateTablet(ctx context.Context, alias TabletAlias, fn func(*Tablet) error) error {
	what := "tablet " + alias.String()
	return updateJSON(ctx, s, s.tabletKey(alias), what, fn, func(old, n *Tablet) error {
		if n.Alias != old.Alias {
			return fmt.Errorf("update %s: the alias can't change: %w", what, ErrInvalid)
		}
		return n.validate()
	})
}

// DeleteTablet removes a tablet; ErrNoNode if it doesn't exist. A shard
// that names it as primary keeps doing so.
func (s *Store) DeleteTablet(ctx context.Context, alias TabletAlias) error {
	resp, err := s.cli.Delete(ctx, s.tabletKey(alias))
	if err != nil {
		return fmt.Errorf("topo: delete tablet %s: %w", alias, err)
	}
	if resp.Deleted == 0 {
		return fmt.Errorf("tablet %s: %w", alias, ErrNoNode)
	}
	return nil
}
