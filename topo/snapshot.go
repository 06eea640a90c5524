package topo

import (
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/topo/vschema"
)

// Snapshot is everything a gateway needs to route, read at one etcd
// revision. It is shared with every receiver: treat it as read-only.
type Snapshot struct {
	// Revision is the etcd revision it was read at.
	Revision int64
	// Keyspaces by name.
	Keyspaces map[string]*Keyspace
	// Shards by keyspace, each list in key order.
	Shards map[string][]*Shard
	// Tablets ordered by alias.
	Tablets []*Tablet
	// VSchemas by keyspace, for every keyspace (implied empty ones
	// included, see GetVSchema).
	VSchemas map[string]*vschema.Keyspace
	// Srv is the serving graph by keyspace.
	Srv map[string]*SrvKeyspace
	// VSchema is VSchemas compiled, with RoutingRules installed.
	VSchema *vschema.VSchema
	// RoutingRules are the saved routing rules (nil: none).
	RoutingRules *vschema.RoutingRules
}

// Snapshot reads the whole topology in one etcd transaction. It fails if
// the vschemas don't compile, which SaveVSchema and UpdateVSchema
// prevent.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	resp, err := s.cli.Txn(ctx).Then(
		clientv3.OpGet(s.keyspacesDir(), clientv3.WithPrefix()),
		clientv3.OpGet(s.shardsDir(), clientv3.WithPrefix()),
		clientv3.OpGet(s.vschemasDir(), clientv3.WithPrefix()),
		clientv3.OpGet(s.srvDir(), clientv3.WithPrefix()),
		clientv3.OpGet(s.tabletsDir(), clientv3.WithPrefix()),
		clientv3.OpGet(s.routingRulesKey()),
	).Commit()
	if err != nil {
		return nil, fmt.Errorf("topo: read snapshot: %w", err)
	}
	kvs := func(i int) []*mvccpb.KeyValue { return resp.Responses[i].GetResponseRange().Kvs }
	snap := &Snapshot{
		Revision: resp.Header.Revision,
		Shards:   make(map[string][]*Shard),
		Srv:      make(map[string]*SrvKeyspace),
	}
	if snap.Keyspaces, err = keyspacesByName(kvs(0)); err != nil {
		return nil, err
	}
	shards, err := decodeAll[Shard](kvs(1), "shard")
	if err != nil {
		return nil, err
	}
	for _, sh := range shards {
		snap.Shards[sh.Keyspace] = append(snap.Shards[sh.Keyspace], sh)
	}
	for _, list := range snap.Shards {
		sortShards(list)
	}
	if snap.VSchemas, err = s.vschemasOf(snap.Keyspaces, kvs(2)); err != nil {
		return nil, err
	}
	srvs, err := decodeAll[SrvKeyspace](kvs(3), "serving keyspace")
	if err != nil {
		return nil, err
	}
	for _, srv := range srvs {
		snap.Srv[srv.Name] = srv
	}
	if snap.Tablets, err = decodeAll[Tablet](kvs(4), "tablet"); err != nil {
		return nil, err
	}
	if snap.VSchema, err = vschema.Build(snap.VSchemas); err != nil {
		return nil, fmt.Errorf("topo: snapshot at revision %d: %w", snap.Revision, err)
	}
	if rr := kvs(5); len(rr) > 0 {
		if snap.RoutingRules, err = decodeRoutingRules(rr[0].Value); err != nil {
			return nil, err
		}
		// Rules that no longer fit the vschemas (a table removed from the
		// target's vschema) are not installed: tables route as declared.
		if err := snap.VSchema.SetRoutingRules(snap.RoutingRules); err != nil {
			s.log.Warn("topo: routing rules don't fit the vschemas; ignoring them", "err", err)
		}
	}
	return snap, nil
}
