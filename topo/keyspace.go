package topo

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// CreateKeyspace creates a keyspace and its empty serving graph.
// ErrNodeExists if it exists.
func (s *Store) CreateKeyspace(ctx context.Context, ks Keyspace) error {
	if err := checkName("keyspace", ks.Name); err != nil {
		return err
	}
	data, err := json.Marshal(ks)
	if err != nil {
		return fmt.Errorf("topo: encode keyspace %q: %w", ks.Name, err)
	}
	srv, err := json.Marshal(SrvKeyspace{Name: ks.Name, Sharded: ks.Sharded})
	if err != nil {
		return fmt.Errorf("topo: encode serving keyspace %q: %w", ks.Name, err)
	}
	key := s.keyspaceKey(ks.Name)
	resp, err := s.cli.Txn(ctx).
		If(absent(key)).
		Then(clientv3.OpPut(key, string(data)), clientv3.OpPut(s.srvKey(ks.Name), string(srv))).
		Commit()
	if err != nil {
		return fmt.Errorf("topo: create keyspace %q: %w", ks.Name, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("keyspace %q: %w", ks.Name, ErrNodeExists)
	}
	return nil
}

// GetKeyspace returns a keyspace; ErrNoNode if it doesn't exist.
func (s *Store) GetKeyspace(ctx context.Context, name string) (*Keyspace, error) {
	var ks Keyspace
	if _, err := s.get(ctx, s.keyspaceKey(name), fmt.Sprintf("keyspace %q", name), &ks); err != nil {
		return nil, err
	}
	return &ks, nil
}

// ListKeyspaces returns every keyspace, sorted by name.
func (s *Store) ListKeyspaces(ctx context.Context) ([]*Keyspace, error) {
	return listJSON[Keyspace](ctx, s, s.keyspacesDir(), "keyspaces")
}
