package topo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// RebuildSrvKeyspace derives a keyspace's serving graph from its shards:
// every Serving shard, in key order, serves both primary and replica
// traffic. It writes only if the shards haven't changed since it read
// them, so the graph never goes back to an older set of shards. A read
// switch (SetReadSwitch) is kept as it is: it is not derived from the
// shards.
func (s *Store) RebuildSrvKeyspace(ctx context.Context, keyspace string) error {
	what := fmt.Sprintf("serving keyspace %q", keyspace)
	prefix, srvKey := s.shardsPrefix(keyspace), s.srvKey(keyspace)
	return retry(ctx, "rebuild "+what, func() (bool, error) {
		resp, err := s.cli.Txn(ctx).Then(
			clientv3.OpGet(s.keyspaceKey(keyspace)),
			clientv3.OpGet(prefix, clientv3.WithPrefix()),
			clientv3.OpGet(srvKey),
		).Commit()
		if err != nil {
			return false, fmt.Errorf("topo: rebuild %s: %w", what, err)
		}
		kss, err := decodeAll[Keyspace](resp.Responses[0].GetResponseRange().Kvs, "keyspace")
		if err != nil {
			return false, err
		}
		if len(kss) == 0 {
			return false, fmt.Errorf("rebuild %s: keyspace %q: %w", what, keyspace, ErrNoNode)
		}
		shards, err := decodeAll[Shard](resp.Responses[1].GetResponseRange().Kvs, "shard")
		if err != nil {
			return false, err
		}
		srv := deriveSrvKeyspace(kss[0], shards)
		var srvRev int64
		if old := resp.Responses[2].GetResponseRange().Kvs; len(old) > 0 {
			var prev SrvKeyspace
			if err := json.Unmarshal(old[0].Value, &prev); err != nil {
				return false, fmt.Errorf("topo: decode %s: %w", what, err)
			}
			srv.ReadSwitch, srvRev = prev.ReadSwitch, old[0].ModRevision
		}
		data, err := json.Marshal(srv)
		if err != nil {
			return false, fmt.Errorf("topo: encode %s: %w", what, err)
		}
		put, err := s.cli.Txn(ctx).
			If(unchangedSince(prefix, resp.Header.Revision),
				clientv3.Compare(clientv3.ModRevision(srvKey), "=", srvRev)).
			Then(clientv3.OpPut(srvKey, string(data))).
			Commit()
		if err != nil {
			return false, fmt.Errorf("topo: rebuild %s: %w", what, err)
		}
		return put.Succeeded, nil
	})
}

func deriveSrvKeyspace(ks *Keyspace, shards []*Shard) *SrvKeyspace {
	sortShards(shards)
	var names []string
	for _, sh := range shards {
		if sh.Serving {
			names = append(names, sh.Name)
		}
	}
	srv := &SrvKeyspace{Name: ks.Name, Sharded: ks.Sharded}
	if len(names) > 0 {
		srv.Partitions = make(map[TabletType][]string)
		for _, t := range TabletTypes() {
			srv.Partitions[t] = slices.Clone(names)
		}
	}
	return srv
}

// GetSrvKeyspace returns a keyspace's serving graph; ErrNoNode if the
// keyspace doesn't exist.
func (s *Store) GetSrvKeyspace(ctx context.Context, keyspace string) (*SrvKeyspace, error) {
	var srv SrvKeyspace
	if _, err := s.get(ctx, s.srvKey(keyspace), fmt.Sprintf("serving keyspace %q", keyspace), &srv); err != nil {
		return nil, err
	}
	return &srv, nil
}
