package failover

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/topo"
)

// A reparent is an operator's intention (`shardctl reparent`), written
// to etcd under <root>/failover/reparents/<keyspace>/<shard> and carried
// out by the elected controller; the writer waits for its outcome there.
// One per shard at a time: a new request is refused while one is pending
// or running.

// ReparentKind says how a reparent goes.
type ReparentKind string

const (
	// PlannedReparent: writes held in the gateways, the old primary made
	// read-only, the new one caught up, then the switch; the old primary
	// becomes a replica. Nothing is lost; writes stall briefly.
	PlannedReparent ReparentKind = "planned"
	// EmergencyReparent: the old primary is presumed dead; the failover
	// path runs now (no detection, no damping), promoting the chosen
	// replica if it is the most advanced.
	EmergencyReparent ReparentKind = "emergency"
)

// Reparent states.
const (
	ReparentPending = "pending"
	ReparentRunning = "running"
	ReparentDone    = "done"
	ReparentFailed  = "failed"
)

// Reparent is one reparent request and, once carried out, its outcome.
type Reparent struct {
	ID       string       `json:"id"`
	Kind     ReparentKind `json:"kind"`
	Keyspace string       `json:"keyspace"`
	Shard    string       `json:"shard"`
	// NewPrimary is the replica to promote ("zone1-0000000102"); empty:
	// the most advanced one.
	NewPrimary string `json:"new_primary,omitempty"`
	// IgnoreReplicas (emergency only) are replicas the operator accepts to
	// leave out if they do not answer: a failover otherwise waits for every
	// replica, as any of them may hold an acknowledged write.
	IgnoreReplicas []string  `json:"ignore_replicas,omitempty"`
	Requested      time.Time `json:"requested"`

	State string `json:"state"`
	// Error says why a failed reparent failed.
	Error string `json:"error,omitempty"`
	// OldPrimary and Promoted are the aliases the reparent moved between.
	OldPrimary string `json:"old_primary,omitempty"`
	Promoted   string `json:"promoted,omitempty"`
	// Stall is, for a planned reparent, how long the gateways held the
	// shard's writes (hold placed to hold released).
	Stall    time.Duration `json:"stall_ns,omitempty"`
	Finished time.Time     `json:"finished,omitempty"`
}

// Finished tells whether the controller is done with it.
func (r *Reparent) finished() bool { return r.State == ReparentDone || r.State == ReparentFailed }

func reparentsDir(store *topo.Store) string { return store.Root() + "/failover/reparents/" }
func reparentKey(store *topo.Store, keyspace, shard string) string {
	return reparentsDir(store) + keyspace + "/" + shard
}

// shardReplica finds the replica of r's shard named name among tablets
// (the shard's), saying what it is if not that.
func shardReplica(ctx context.Context, store *topo.Store, tablets []*topo.Tablet, r *Reparent, name string) (*topo.Tablet, error) {
	alias, err := topo.ParseTabletAlias(name)
	if err != nil {
		return nil, err
	}
	t := findTablet(tablets, alias)
	if t == nil {
		if _, err := store.GetTablet(ctx, alias); err != nil {
			return nil, fmt.Errorf("unknown tablet %s", alias)
		}
		return nil, fmt.Errorf("tablet %s is not in shard %s/%s", alias, r.Keyspace, r.Shard)
	}
	if t.Type != topo.TabletReplica {
		return nil, fmt.Errorf("tablet %s is not a replica of %s/%s (it is %s)", alias, r.Keyspace, r.Shard, t.Type)
	}
	return t, nil
}

// ErrReparentRunning: a reparent of the shard is pending or running.
var ErrReparentRunning = errors.New("failover: a reparent of this shard is already pending or running")

// RequestReparent checks the request against the topology (the shard
// exists and names a primary; NewPrimary, if given, is a replica of that
// shard) and writes it for the controller, with a fresh ID. It fails with
// ErrReparentRunning if one is pending or running for the shard.
func RequestReparent(ctx context.Context, store *topo.Store, r *Reparent) error {
	if r.Kind != PlannedReparent && r.Kind != EmergencyReparent {
		return fmt.Errorf("failover: reparent kind %q: want planned or emergency", r.Kind)
	}
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return err
	}
	sh, tablets := shardTablets(snap, r.Keyspace, r.Shard)
	if sh == nil {
		return fmt.Errorf("failover: unknown shard %s/%s", r.Keyspace, r.Shard)
	}
	if sh.PrimaryAlias == nil {
		return fmt.Errorf("failover: shard %s/%s names no primary to reparent from", r.Keyspace, r.Shard)
	}
	if r.NewPrimary != "" {
		t, err := shardReplica(ctx, store, tablets, r, r.NewPrimary)
		if err != nil {
			return fmt.Errorf("failover: --new-primary: %w", err)
		}
		r.NewPrimary = t.Alias.String()
	}
	if len(r.IgnoreReplicas) > 0 && r.Kind != EmergencyReparent {
		return fmt.Errorf("failover: --ignore-replicas is for an emergency reparent only (a planned one needs every replica caught up)")
	}
	for i, name := range r.IgnoreReplicas {
		t, err := shardReplica(ctx, store, tablets, r, name)
		if err != nil {
			return fmt.Errorf("failover: --ignore-replicas: %w", err)
		}
		r.IgnoreReplicas[i] = t.Alias.String()
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	r.ID = fmt.Sprintf("reparent-%s-%s", time.Now().UTC().Format("20060102T150405"), hex.EncodeToString(b[:]))
	r.Requested = time.Now().UTC()
	r.State = ReparentPending
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	key := reparentKey(store, r.Keyspace, r.Shard)
	for {
		resp, err := store.Client().Get(ctx, key)
		if err != nil {
			return fmt.Errorf("failover: read reparent of %s/%s: %w", r.Keyspace, r.Shard, err)
		}
		cmp := clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
		if len(resp.Kvs) > 0 {
			var old Reparent
			if err := json.Unmarshal(resp.Kvs[0].Value, &old); err == nil && !old.finished() {
				return fmt.Errorf("%w: %s %s reparent %s requested at %s", ErrReparentRunning, old.State, old.Kind, old.ID, old.Requested.Format(time.RFC3339))
			}
			cmp = clientv3.Compare(clientv3.ModRevision(key), "=", resp.Kvs[0].ModRevision)
		}
		tr, err := store.Client().Txn(ctx).If(cmp).Then(clientv3.OpPut(key, string(data))).Commit()
		if err != nil {
			return fmt.Errorf("failover: write reparent of %s/%s: %w", r.Keyspace, r.Shard, err)
		}
		if tr.Succeeded {
			return nil
		}
	}
}

// GetReparent reads the latest reparent request of a shard.
func GetReparent(ctx context.Context, store *topo.Store, keyspace, shard string) (*Reparent, error) {
	resp, err := store.Client().Get(ctx, reparentKey(store, keyspace, shard))
	if err != nil {
		return nil, fmt.Errorf("failover: read reparent of %s/%s: %w", keyspace, shard, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("failover: no reparent of %s/%s: %w", keyspace, shard, topo.ErrNoNode)
	}
	r := new(Reparent)
	if err := json.Unmarshal(resp.Kvs[0].Value, r); err != nil {
		return nil, fmt.Errorf("failover: decode reparent of %s/%s: %w", keyspace, shard, err)
	}
	return r, nil
}

// WaitReparent waits until the controller has finished the reparent id
// of the shard and returns it (State done or failed), or ctx ends.
func WaitReparent(ctx context.Context, store *topo.Store, keyspace, shard, id string) (*Reparent, error) {
	for {
		r, err := GetReparent(ctx, store, keyspace, shard)
		if err != nil {
			return nil, err
		}
		if r.ID != id {
			return nil, fmt.Errorf("failover: reparent %s of %s/%s was replaced by %s", id, keyspace, shard, r.ID)
		}
		if r.finished() {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("failover: waiting for reparent %s (%s): %w", id, r.State, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CancelReparent withdraws a request no controller has taken yet (state
// pending), so that a command that gave up waiting is not carried out
// later; it marks it failed with reason. It reports whether it did: a
// request already running is left to the controller.
func CancelReparent(ctx context.Context, store *topo.Store, keyspace, shard, id, reason string) (bool, error) {
	key := reparentKey(store, keyspace, shard)
	resp, err := store.Client().Get(ctx, key)
	if err != nil {
		return false, fmt.Errorf("failover: read reparent of %s/%s: %w", keyspace, shard, err)
	}
	if len(resp.Kvs) == 0 {
		return false, nil
	}
	r := new(Reparent)
	if err := json.Unmarshal(resp.Kvs[0].Value, r); err != nil {
		return false, fmt.Errorf("failover: decode reparent of %s/%s: %w", keyspace, shard, err)
	}
	if r.ID != id || r.State != ReparentPending {
		return false, nil
	}
	r.State, r.Error, r.Finished = ReparentFailed, reason, time.Now().UTC()
	data, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	tr, err := store.Client().Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", resp.Kvs[0].ModRevision)).
		Then(clientv3.OpPut(key, string(data))).Commit()
	if err != nil {
		return false, fmt.Errorf("failover: cancel reparent of %s/%s: %w", keyspace, shard, err)
	}
	return tr.Succeeded, nil
}

// saveReparent writes the controller's progress on a request, if it is
// still the shard's current one.
func saveReparent(ctx context.Context, store *topo.Store, r *Reparent) error {
	key := reparentKey(store, r.Keyspace, r.Shard)
	cur, err := GetReparent(ctx, store, r.Keyspace, r.Shard)
	if err != nil {
		return err
	}
	if cur.ID != r.ID {
		return fmt.Errorf("failover: reparent %s of %s/%s was replaced by %s", r.ID, r.Keyspace, r.Shard, cur.ID)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = store.Client().Put(ctx, key, string(data))
	return err
}

// listReparents returns every shard's latest reparent request.
func listReparents(ctx context.Context, store *topo.Store) ([]*Reparent, error) {
	resp, err := store.Client().Get(ctx, reparentsDir(store), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("failover: list reparents: %w", err)
	}
	var out []*Reparent
	for _, kv := range resp.Kvs {
		r := new(Reparent)
		if err := json.Unmarshal(kv.Value, r); err != nil {
			return nil, fmt.Errorf("failover: decode reparent %s: %w", kv.Key, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// runReparents carries out the requests not finished: pending ones, and
// running ones a previous leader did not finish (each step looks at the
// topology and instances again, so a half-done one is redone or found
// done). Called from the check loop, so reparents and failovers of one
// controller never run at once.
func (c *Controller) runReparents(ctx context.Context) {
	reqs, err := listReparents(ctx, c.cfg.Store)
	if err != nil {
		c.log.Warn("failover: reparent requests", "err", err)
		return
	}
	for _, r := range reqs {
		if r.finished() {
			continue
		}
		r.State = ReparentRunning
		if err := saveReparent(ctx, c.cfg.Store, r); err != nil {
			c.log.Warn("failover: reparent", "id", r.ID, "err", err)
			continue
		}
		c.log.Warn("failover: reparent requested", "id", r.ID, "kind", r.Kind, "shard", r.Keyspace+"/"+r.Shard, "new_primary", r.NewPrimary)
		switch r.Kind {
		case PlannedReparent:
			err = c.plannedReparent(ctx, r)
		case EmergencyReparent:
			err = c.emergencyReparent(ctx, r)
		default:
			err = fmt.Errorf("unknown reparent kind %q", r.Kind)
		}
		if ctx.Err() != nil {
			return // the next leader resumes it
		}
		r.State, r.Finished = ReparentDone, time.Now().UTC()
		if err != nil {
			r.State, r.Error = ReparentFailed, err.Error()
			c.log.Error("failover: reparent failed", "id", r.ID, "shard", r.Keyspace+"/"+r.Shard, "err", err)
		} else {
			c.log.Warn("failover: reparent done", "id", r.ID, "shard", r.Keyspace+"/"+r.Shard, "old_primary", r.OldPrimary, "new_primary", r.Promoted, "stall", r.Stall)
		}
		if err := saveReparent(ctx, c.cfg.Store, r); err != nil {
			c.log.Error("failover: record reparent outcome", "id", r.ID, "err", err)
		}
	}
}
