package topo

import (
	"context"
	"errors"
	"fmt"
)

// RegisterTablet records an instance that already runs as a tablet of
// t.Keyspace/t.Shard (`shardctl tablet add`). The keyspace must exist
// (ErrNoNode); the shard is created if missing (see CreateShard: it
// serves only if it overlaps no other shard, so a resharding target is
// created not serving). A zero t.Alias.UID is replaced by the cell's
// next free UID. A primary becomes its shard's PrimaryAlias.
func (s *Store) RegisterTablet(ctx context.Context, t *Tablet) error {
	if _, err := s.GetShard(ctx, t.Keyspace, t.Shard); errors.Is(err, ErrNoNode) {
		err = s.CreateShard(ctx, &Shard{Keyspace: t.Keyspace, Name: t.Shard})
		if err != nil && !errors.Is(err, ErrNodeExists) {
			return err
		}
	} else if err != nil {
		return err
	}
	pickUID := t.Alias.UID == 0
	for attempt := 0; ; attempt++ {
		if pickUID {
			uid, err := s.nextTabletUID(ctx, t.Alias.Cell)
			if err != nil {
				return err
			}
			t.Alias.UID = uid
		}
		err := s.AddTablet(ctx, t)
		if err == nil {
			break
		}
		if !pickUID || !errors.Is(err, ErrNodeExists) || attempt >= maxAttempts {
			return err
		}
	}
	if t.Type != TabletPrimary {
		return nil
	}
	alias := t.Alias
	return s.UpdateShard(ctx, t.Keyspace, t.Shard, func(sh *Shard) error {
		sh.PrimaryAlias = &alias
		return nil
	})
}

// nextTabletUID is one more than the largest UID in cell (1 for none).
func (s *Store) nextTabletUID(ctx context.Context, cell string) (uint32, error) {
	tablets, err := s.ListTablets(ctx)
	if err != nil {
		return 0, err
	}
	var top uint32
	for _, t := range tablets {
		if t.Alias.Cell == cell {
			top = max(top, t.Alias.UID)
		}
	}
	if top == ^uint32(0) {
		return 0, fmt.Errorf("cell %q has no free tablet uid: %w", cell, ErrInvalid)
	}
	return top + 1, nil
}
