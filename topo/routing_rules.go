package topo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/topo/vschema"
)

// Routing rules (vschema.RoutingRules) are one object for the whole
// topology, at <root>/routing_rules, written by movetables workflows
// while they move tables between keyspaces. Every Snapshot reads them and
// installs them in its compiled VSchema, so every gateway routes by the
// same rules within its topology watch's delay.

func (s *Store) routingRulesKey() string { return s.root + "/routing_rules" }

// GetRoutingRules returns the routing rules (empty when none are saved).
func (s *Store) GetRoutingRules(ctx context.Context) (*vschema.RoutingRules, error) {
	var rr vschema.RoutingRules
	if _, err := s.get(ctx, s.routingRulesKey(), "routing rules", &rr); err != nil && !errors.Is(err, ErrNoNode) {
		return nil, err
	}
	return &rr, nil
}

// UpdateRoutingRules changes the routing rules with fn in a
// compare-and-swap loop (fn may be called more than once and may return
// ErrNoUpdateNeeded). The new rules must fit the vschemas as they are
// (vschema.VSchema.SetRoutingRules): ErrInvalid otherwise.
func (s *Store) UpdateRoutingRules(ctx context.Context, fn func(*vschema.RoutingRules) error) error {
	key := s.routingRulesKey()
	return retry(ctx, "update routing rules", func() (bool, error) {
		resp, err := s.cli.Txn(ctx).Then(
			clientv3.OpGet(key),
			clientv3.OpGet(s.keyspacesDir(), clientv3.WithPrefix()),
			clientv3.OpGet(s.vschemasDir(), clientv3.WithPrefix()),
		).Commit()
		if err != nil {
			return false, fmt.Errorf("topo: update routing rules: %w", err)
		}
		var rr vschema.RoutingRules
		var rev int64
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
			if err := json.Unmarshal(kvs[0].Value, &rr); err != nil {
				return false, fmt.Errorf("topo: decode routing rules: %w", err)
			}
			rev = kvs[0].ModRevision
		}
		if err := fn(&rr); err != nil {
			if errors.Is(err, ErrNoUpdateNeeded) {
				return true, nil
			}
			return false, err
		}
		kss, err := keyspacesByName(resp.Responses[1].GetResponseRange().Kvs)
		if err != nil {
			return false, err
		}
		all, err := s.vschemasOf(kss, resp.Responses[2].GetResponseRange().Kvs)
		if err != nil {
			return false, err
		}
		vs, err := vschema.Build(all)
		if err == nil {
			err = vs.SetRoutingRules(&rr)
		}
		if err != nil {
			return false, fmt.Errorf("routing rules: %w: %w", err, ErrInvalid)
		}
		data, err := json.Marshal(&rr)
		if err != nil {
			return false, fmt.Errorf("topo: encode routing rules: %w", err)
		}
		put, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev),
				unchangedSince(s.vschemasDir(), resp.Header.Revision)).
			Then(clientv3.OpPut(key, string(data))).
			Commit()
		if err != nil {
			return false, fmt.Errorf("topo: update routing rules: %w", err)
		}
		return put.Succeeded, nil
	})
}

func decodeRoutingRules(data []byte) (*vschema.RoutingRules, error) {
	var rr vschema.RoutingRules
	if err := json.Unmarshal(data, &rr); err != nil {
		return nil, fmt.Errorf("topo: decode routing rules: %w", err)
	}
	return &rr, nil
}
