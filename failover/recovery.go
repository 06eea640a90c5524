package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/topo"
)

// Recovery is one failover, as recorded in etcd.
type Recovery struct {
	// Time is when the new primary was named in the topology.
	Time     time.Time `json:"time"`
	Keyspace string    `json:"keyspace"`
	Shard    string    `json:"shard"`
	// OldPrimary and NewPrimary are tablet aliases ("zone1-0000010000").
	OldPrimary string `json:"old_primary"`
	NewPrimary string `json:"new_primary"`
	// Reason says why the old primary was judged dead.
	Reason string `json:"reason"`
	// FailedAt is the first failed check of the old primary.
	FailedAt time.Time `json:"failed_at"`
	// Duration is from taking the shard lock to naming the new primary.
	Duration time.Duration `json:"duration_ns"`
	// Position is the GTID position the new primary had applied when it
	// was made writable.
	Position string `json:"position,omitempty"`
}

// Keys under the topology root.
func recoveriesDir(store *topo.Store) string { return store.Root() + "/failover/recoveries/" }
func leaderPrefix(store *topo.Store) string  { return store.Root() + "/failover/leader" }

// recoveryKey sorts by time: the nanoseconds are zero-padded.
func recoveryKey(store *topo.Store, r *Recovery) string {
	return fmt.Sprintf("%s%020d/%s/%s", recoveriesDir(store), r.Time.UnixNano(), r.Keyspace, r.Shard)
}

// Record writes a recovery (the controller does after each failover;
// a reparent done another way may record itself too).
func Record(ctx context.Context, store *topo.Store, r *Recovery) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("failover: encode recovery: %w", err)
	}
	if _, err := store.Client().Put(ctx, recoveryKey(store, r), string(data)); err != nil {
		return fmt.Errorf("failover: record recovery of %s/%s: %w", r.Keyspace, r.Shard, err)
	}
	return nil
}

// ListRecoveries returns every recorded recovery, oldest first.
func ListRecoveries(ctx context.Context, store *topo.Store) ([]*Recovery, error) {
	resp, err := store.Client().Get(ctx, recoveriesDir(store), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("failover: list recoveries: %w", err)
	}
	out := make([]*Recovery, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		r := new(Recovery)
		if err := json.Unmarshal(kv.Value, r); err != nil {
			return nil, fmt.Errorf("failover: decode recovery %s: %w", kv.Key, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// lastRecovery returns the latest recovery of a shard, nil if none.
func lastRecovery(ctx context.Context, store *topo.Store, keyspace, shard string) (*Recovery, error) {
	all, err := ListRecoveries(ctx, store)
	if err != nil {
		return nil, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Keyspace == keyspace && all[i].Shard == shard {
			return all[i], nil
		}
	}
	return nil, nil
}
