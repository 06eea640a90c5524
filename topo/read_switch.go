package topo

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ReadSwitchScale is the denominator of ReadSwitch.Per10000: shares are
// set in steps of 0.01%.
const ReadSwitchScale = 10000

// ReadSwitch sends a share of a keyspace's reads to a second set of shards
// while a resharding workflow runs (`shardctl reshard switch-traffic
// --reads --percent P`). The share is of sessions, not of statements: a
// gateway gives each session a draw in [0, ReadSwitchScale) when it
// connects, and the session reads from Shards iff its draw is below
// Per10000, so it keeps reading one side while the share stays put.
// Writes, and reads inside transactions, keep going to Partitions.
type ReadSwitch struct {
	// Workflow is the workflow that set the switch.
	Workflow string `json:"workflow"`
	// Shards are the shard names reads go to, in key order; together they
	// cover the keyspace once, like Partitions (the targets, plus the
	// serving shards the workflow does not replace). They serve both
	// primary and replica reads.
	Shards []string `json:"shards"`
	// Per10000 is the share of sessions reading from Shards, in
	// 1/ReadSwitchScale: 1 is 0.01%, ReadSwitchScale is every session.
	Per10000 int `json:"per_10000"`
}

// SetReadSwitch installs rs as the keyspace's read switch, or removes it
// when rs is nil. Partitions are left as they are. ErrNoNode if the
// keyspace has no serving graph; ErrInvalid for a share outside
// 1..ReadSwitchScale or a switch without shards.
func (s *Store) SetReadSwitch(ctx context.Context, keyspace string, rs *ReadSwitch) error {
	if rs != nil {
		if rs.Per10000 < 1 || rs.Per10000 > ReadSwitchScale {
			return fmt.Errorf("read switch of %q: share %d/%d: want 1..%d: %w", keyspace, rs.Per10000, ReadSwitchScale, ReadSwitchScale, ErrInvalid)
		}
		if len(rs.Shards) == 0 {
			return fmt.Errorf("read switch of %q: no shards: %w", keyspace, ErrInvalid)
		}
		for _, sh := range rs.Shards {
			if _, err := shardKeyRange(sh); err != nil {
				return fmt.Errorf("read switch of %q: %w", keyspace, err)
			}
		}
	}
	what := fmt.Sprintf("serving keyspace %q", keyspace)
	key := s.srvKey(keyspace)
	return retry(ctx, "set read switch of "+what, func() (bool, error) {
		data, rev, err := s.getRaw(ctx, key, what)
		if err != nil {
			return false, err
		}
		var srv SrvKeyspace
		if err := json.Unmarshal(data, &srv); err != nil {
			return false, fmt.Errorf("topo: decode %s: %w", what, err)
		}
		srv.ReadSwitch = rs
		if data, err = json.Marshal(&srv); err != nil {
			return false, fmt.Errorf("topo: encode %s: %w", what, err)
		}
		put, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, string(data))).
			Commit()
		if err != nil {
			return false, fmt.Errorf("topo: set read switch of %s: %w", what, err)
		}
		return put.Succeeded, nil
	})
}
