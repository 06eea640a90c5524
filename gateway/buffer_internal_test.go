package gateway

import (
	"context"
	"testing"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// TestBufferFastPathAllocatesNothing: a statement for a shard with a
// serving primary and no hold costs the buffer no allocation (it is on
// every statement's path).
func TestBufferFastPathAllocatesNothing(t *testing.T) {
	b := newBuffer(0, 0)
	pool := tablet.NewPool(tablet.PoolConfig{Conn: tablet.ConnConfig{Addr: "127.0.0.1:1"}})
	defer pool.Close()
	r := &routing{
		snap:    &topo.Snapshot{Keyspaces: map[string]*topo.Keyspace{"ks": {Name: "ks"}}},
		tablets: map[topo.TabletType]map[shardKey][]*tablet.Pool{topo.TabletPrimary: {{"ks", "-80"}: {pool}}},
	}
	current := func() *routing { return r }
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		p, passing, _, err := b.primary(ctx, r, current, "ks", "-80")
		if err != nil || p != pool {
			t.Fatalf("primary: got %v, %v, want the shard's pool", p, err)
		}
		passing.Add(-1)
	})
	if allocs != 0 {
		t.Errorf("buffer fast path: got %v allocations, want 0", allocs)
	}
}
