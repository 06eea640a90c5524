package gateway

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// TestTopologySeversDemotedPrimary: when the topology stops naming a
// tablet as its shard's primary (a failover drains it), the gateway's
// pool to it is severed (its connections, in-transaction ones included,
// are cut) and a fresh pool serves the tablet in its new role; the
// promoted tablet's pool and other tablets' pools are kept.
func TestTopologySeversDemotedPrimary(t *testing.T) {
	a := topo.TabletAlias{Cell: "zone1", UID: 1}
	b := topo.TabletAlias{Cell: "zone1", UID: 2}
	snapshot := func(primary topo.TabletAlias, typeA, typeB topo.TabletType) *topo.Snapshot {
		return &topo.Snapshot{
			Keyspaces: map[string]*topo.Keyspace{"ks": {Name: "ks"}},
			Shards:    map[string][]*topo.Shard{"ks": {{Keyspace: "ks", Name: "0", PrimaryAlias: &primary}}},
			Tablets: []*topo.Tablet{
				{Alias: a, Keyspace: "ks", Shard: "0", Type: typeA, Host: "127.0.0.1", Port: 1},
				{Alias: b, Keyspace: "ks", Shard: "0", Type: typeB, Host: "127.0.0.1", Port: 2},
			},
		}
	}
	tp := newTopology(BackendConfig{}, "zone1", slog.New(slog.DiscardHandler))
	defer tp.close()

	tp.update(snapshot(a, topo.TabletPrimary, topo.TabletReplica))
	oldPrimary, err := tp.current.Load().pool("ks", "0", topo.TabletPrimary, 0)
	if err != nil {
		t.Fatal(err)
	}
	replica, err := tp.current.Load().pool("ks", "0", topo.TabletReplica, 0)
	if err != nil {
		t.Fatal(err)
	}

	// The failover's steps, as the gateway sees them: a drained, then b
	// named and typed primary.
	tp.update(snapshot(a, topo.TabletDrained, topo.TabletReplica))
	if _, err := oldPrimary.Get(context.Background()); !errors.Is(err, tablet.ErrPoolClosed) {
		t.Errorf("Get on the drained former primary's pool: got %v, want ErrPoolClosed", err)
	}
	if _, err := tp.current.Load().pool("ks", "0", topo.TabletPrimary, 0); err == nil {
		t.Errorf("primary of a shard whose primary is drained: got a pool, want an error")
	}
	tp.update(snapshot(b, topo.TabletDrained, topo.TabletPrimary))
	newPrimary, err := tp.current.Load().pool("ks", "0", topo.TabletPrimary, 0)
	if err != nil {
		t.Fatal(err)
	}
	if newPrimary != replica {
		t.Errorf("promoted replica's pool: got a new one, want the one it had as a replica")
	}

	// The former primary comes back as a replica: a fresh pool, open.
	tp.update(snapshot(b, topo.TabletReplica, topo.TabletPrimary))
	back, err := tp.current.Load().pool("ks", "0", topo.TabletReplica, 0)
	if err != nil {
		t.Fatal(err)
	}
	if back == oldPrimary {
		t.Errorf("fenced former primary's pool: got the severed one back, want a new one")
	}
	if cur, _ := tp.current.Load().pool("ks", "0", topo.TabletPrimary, 0); cur != newPrimary {
		t.Errorf("new primary's pool changed when its former primary came back as a replica")
	}
}
