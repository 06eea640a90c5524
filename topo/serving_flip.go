package topo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// FlipServing is a resharding write switch's one topology write: in one
// etcd transaction, the shards named in off stop serving, those in on
// start, the keyspace's serving graph is derived again from them (a read
// switch set by the same workflow is dropped: reads follow the
// partitions), and the workflow is changed by fn. So a controller that
// dies around it leaves either all of it or none, and whoever reads the
// workflow knows which graph serves.
//
// fn is as in UpdateWorkflow (it may run more than once; it must not
// change the keyspace, name or kind). Every cmp in guards must hold, or
// FlipServing returns an error wrapping ErrBadVersion. ErrNoNode if a
// named shard, the keyspace or the workflow doesn't exist.
func (s *Store) FlipServing(ctx context.Context, keyspace, workflow string, off, on []string, fn func(*Workflow) error, guards ...clientv3.Cmp) error {
	what := fmt.Sprintf("serving shards of %q for workflow %s", keyspace, workflow)
	prefix, srvKey, wfKey := s.shardsPrefix(keyspace), s.srvKey(keyspace), s.workflowKey(keyspace, workflow)
	return retry(ctx, "flip "+what, func() (bool, error) {
		resp, err := s.cli.Txn(ctx).Then(
			clientv3.OpGet(s.keyspaceKey(keyspace)),
			clientv3.OpGet(prefix, clientv3.WithPrefix()),
			clientv3.OpGet(srvKey),
			clientv3.OpGet(wfKey),
		).Commit()
		if err != nil {
			return false, fmt.Errorf("topo: flip %s: %w", what, err)
		}
		kss, err := decodeAll[Keyspace](resp.Responses[0].GetResponseRange().Kvs, "keyspace")
		if err != nil {
			return false, err
		}
		if len(kss) == 0 {
			return false, fmt.Errorf("flip %s: keyspace: %w", what, ErrNoNode)
		}
		shards, err := decodeAll[Shard](resp.Responses[1].GetResponseRange().Kvs, "shard")
		if err != nil {
			return false, err
		}
		wfKvs := resp.Responses[3].GetResponseRange().Kvs
		if len(wfKvs) == 0 {
			return false, fmt.Errorf("flip %s: workflow: %w", what, ErrNoNode)
		}
		var w Workflow
		if err := json.Unmarshal(wfKvs[0].Value, &w); err != nil {
			return false, fmt.Errorf("topo: decode workflow %s/%s: %w", keyspace, workflow, err)
		}
		old := w
		if err := fn(&w); err != nil {
			if errors.Is(err, ErrNoUpdateNeeded) {
				return true, nil
			}
			return false, err
		}
		if w.Keyspace != old.Keyspace || w.Name != old.Name || w.Kind != old.Kind {
			return false, fmt.Errorf("flip %s: the workflow's keyspace, name and kind can't change: %w", what, ErrInvalid)
		}
		if err := w.validate(); err != nil {
			return false, err
		}
		w.Updated = time.Now().UTC()

		var ops []clientv3.Op
		for _, name := range append(slices.Clone(off), on...) {
			i := slices.IndexFunc(shards, func(sh *Shard) bool { return sh.Name == name })
			if i < 0 {
				return false, fmt.Errorf("flip %s: shard %s/%s: %w", what, keyspace, name, ErrNoNode)
			}
			shards[i].Serving = slices.Contains(on, name)
			data, err := json.Marshal(shards[i])
			if err != nil {
				return false, fmt.Errorf("topo: encode shard %s/%s: %w", keyspace, name, err)
			}
			ops = append(ops, clientv3.OpPut(s.shardKey(keyspace, name), string(data)))
		}
		srv := deriveSrvKeyspace(kss[0], shards)
		var srvRev int64
		if old := resp.Responses[2].GetResponseRange().Kvs; len(old) > 0 {
			var prev SrvKeyspace
			if err := json.Unmarshal(old[0].Value, &prev); err != nil {
				return false, fmt.Errorf("topo: decode serving keyspace %q: %w", keyspace, err)
			}
			if rs := prev.ReadSwitch; rs != nil && rs.Workflow != workflow {
				srv.ReadSwitch = rs
			}
			srvRev = old[0].ModRevision
		}
		srvData, err := json.Marshal(srv)
		if err != nil {
			return false, fmt.Errorf("topo: encode serving keyspace %q: %w", keyspace, err)
		}
		wfData, err := json.Marshal(&w)
		if err != nil {
			return false, fmt.Errorf("topo: encode workflow %s/%s: %w", keyspace, workflow, err)
		}
		ops = append(ops, clientv3.OpPut(srvKey, string(srvData)), clientv3.OpPut(wfKey, string(wfData)))
		conds := append([]clientv3.Cmp{
			unchangedSince(prefix, resp.Header.Revision),
			clientv3.Compare(clientv3.ModRevision(srvKey), "=", srvRev),
			clientv3.Compare(clientv3.ModRevision(wfKey), "=", wfKvs[0].ModRevision),
		}, guards...)
		put, err := s.cli.Txn(ctx).If(conds...).Then(ops...).Commit()
		if err != nil {
			return false, fmt.Errorf("topo: flip %s: %w", what, err)
		}
		if !put.Succeeded && len(guards) > 0 {
			// Lost a race, or a guard failed: a guard alone is checked again.
			g, err := s.cli.Txn(ctx).If(guards...).Commit()
			if err == nil && !g.Succeeded {
				return false, fmt.Errorf("flip %s: a guard no longer holds: %w", what, ErrBadVersion)
			}
		}
		return put.Succeeded, nil
	})
}
