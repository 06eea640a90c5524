package topo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/topo/vschema"
)

// GetVSchema returns a keyspace's vschema; ErrNoNode if the keyspace
// doesn't exist. A keyspace with no saved vschema has the empty one
// implied: {} for an unsharded keyspace, {"sharded": true} for a sharded
// one (no tables yet).
func (s *Store) GetVSchema(ctx context.Context, keyspace string) (*vschema.Keyspace, error) {
	resp, err := s.cli.Txn(ctx).Then(
		clientv3.OpGet(s.keyspaceKey(keyspace)),
		clientv3.OpGet(s.vschemaKey(keyspace)),
	).Commit()
	if err != nil {
		return nil, fmt.Errorf("topo: get vschema of %q: %w", keyspace, err)
	}
	kss, err := decodeAll[Keyspace](resp.Responses[0].GetResponseRange().Kvs, "keyspace")
	if err != nil {
		return nil, err
	}
	if len(kss) == 0 {
		return nil, fmt.Errorf("keyspace %q: %w", keyspace, ErrNoNode)
	}
	vss, err := s.vschemasOf(map[string]*Keyspace{keyspace: kss[0]}, resp.Responses[1].GetResponseRange().Kvs)
	if err != nil {
		return nil, err
	}
	return vss[keyspace], nil
}

// SaveVSchema replaces a keyspace's vschema; see UpdateVSchema for the
// checks it passes first.
func (s *Store) SaveVSchema(ctx context.Context, keyspace string, vs *vschema.Keyspace) error {
	if vs == nil {
		return fmt.Errorf("save vschema of %q: vschema is nil: %w", keyspace, ErrInvalid)
	}
	data, err := json.Marshal(vs)
	if err != nil {
		return fmt.Errorf("topo: encode vschema of %q: %w", keyspace, err)
	}
	return s.UpdateVSchema(ctx, keyspace, func(cur *vschema.Keyspace) error {
		*cur = vschema.Keyspace{}
		return json.Unmarshal(data, cur)
	})
}

// UpdateVSchema changes a keyspace's vschema with fn in a compare-and-swap
// loop: fn gets the current vschema (the implied empty one if none is
// saved) and may be called more than once; it may return
// ErrNoUpdateNeeded to write nothing. Before writing, the new vschema must
// agree with the keyspace on being sharded (ErrInvalid) and compile
// together with every other keyspace's vschema (vschema.Build; errors wrap
// vschema.ErrInvalid), so a stored vschema is always valid. The write
// happens only if no vschema changed since the read. ErrNoNode if the
// keyspace doesn't exist.
func (s *Store) UpdateVSchema(ctx context.Context, keyspace string, fn func(*vschema.Keyspace) error) error {
	what := fmt.Sprintf("vschema of %q", keyspace)
	return retry(ctx, "update "+what, func() (bool, error) {
		resp, err := s.cli.Txn(ctx).Then(
			clientv3.OpGet(s.keyspacesDir(), clientv3.WithPrefix()),
			clientv3.OpGet(s.vschemasDir(), clientv3.WithPrefix()),
		).Commit()
		if err != nil {
			return false, fmt.Errorf("topo: update %s: %w", what, err)
		}
		kss, err := keyspacesByName(resp.Responses[0].GetResponseRange().Kvs)
		if err != nil {
			return false, err
		}
		ks := kss[keyspace]
		if ks == nil {
			return false, fmt.Errorf("update %s: keyspace %q: %w", what, keyspace, ErrNoNode)
		}
		all, err := s.vschemasOf(kss, resp.Responses[1].GetResponseRange().Kvs)
		if err != nil {
			return false, err
		}
		cur := all[keyspace]
		if err := fn(cur); err != nil {
			if errors.Is(err, ErrNoUpdateNeeded) {
				return true, nil
			}
			return false, err
		}
		if cur.Sharded != ks.Sharded {
			return false, fmt.Errorf("%s says sharded=%v, but the keyspace is sharded=%v: %w", what, cur.Sharded, ks.Sharded, ErrInvalid)
		}
		if _, err := vschema.Build(all); err != nil {
			return false, fmt.Errorf("save %s: %w", what, err)
		}
		data, err := json.Marshal(cur)
		if err != nil {
			return false, fmt.Errorf("topo: encode %s: %w", what, err)
		}
		put, err := s.cli.Txn(ctx).
			If(unchangedSince(s.vschemasDir(), resp.Header.Revision)).
			Then(clientv3.OpPut(s.vschemaKey(keyspace), string(data))).
			Commit()
		if err != nil {
			return false, fmt.Errorf("topo: update %s: %w", what, err)
		}
		return put.Succeeded, nil
	})
}

func keyspacesByName(kvs []*mvccpb.KeyValue) (map[string]*Keyspace, error) {
	list, err := decodeAll[Keyspace](kvs, "keyspace")
	if err != nil {
		return nil, err
	}
	m := make(map[string]*Keyspace, len(list))
	for _, ks := range list {
		m[ks.Name] = ks
	}
	return m, nil
}

// vschemasOf returns the vschema of each keyspace in kss: the stored one
// among kvs, or the implied empty one.
func (s *Store) vschemasOf(kss map[string]*Keyspace, kvs []*mvccpb.KeyValue) (map[string]*vschema.Keyspace, error) {
	out := make(map[string]*vschema.Keyspace, len(kss))
	for _, kv := range kvs {
		name := strings.TrimPrefix(string(kv.Key), s.vschemasDir())
		if kss[name] == nil {
			continue
		}
		var vs vschema.Keyspace
		if err := json.Unmarshal(kv.Value, &vs); err != nil {
			return nil, fmt.Errorf("topo: decode vschema of %q: %w", name, err)
		}
		out[name] = &vs
	}
	for name, ks := range kss {
		if out[name] == nil {
			out[name] = &vschema.Keyspace{Sharded: ks.Sharded}
		}
	}
	return out, nil
}
