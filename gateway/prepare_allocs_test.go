package gateway_test

import (
	"context"
	"testing"

	"github.com/shardgate/shardgate/tablet"
)

// preparedPointSelect is a client that allocates nothing per query
// (tablet.Conn with its argument boxed once) running a prepared point
// select through the shared gateway over TCP, so allocations counted
// around it are the gateway's and its shard connection's.
func preparedPointSelect(t testing.TB) func() {
	mustExec(t, shared.db(t, "service", ""), "CREATE TABLE IF NOT EXISTS real_bench (id BIGINT PRIMARY KEY, c VARCHAR(64))")
	mustExec(t, shared.db(t, "service", ""), "REPLACE INTO real_bench (id, c) VALUES (7, 'seven'), (1007, 'a thousand and seven')")
	c, err := tablet.Dial(context.Background(), tablet.ConnConfig{Addr: shared.Get(t).Gateway.Addr(), User: "root", DB: "service"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	args := []any{int64(1007)} // over 255: boxing it allocates
	rows := 0
	onRow := func([]byte) error { rows++; return nil }
	return func() {
		rows = 0
		if _, err := c.StreamPrepared(ctx, "SELECT c FROM real_bench WHERE id = ?", args, nil, onRow); err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Fatalf("the point select returned %d rows, want 1", rows)
		}
	}
}

// TestPreparedPointSelectAllocationsOverTCP pins the allocations of a
// prepared point select through a real gateway and shard: the argument
// boxed once and the hash vindex's keyspace id (11 through go-mysql's
// execute path and Route.Stream). The least of three measurements
// counts: the gateway's background work (topology watch, schema
// tracker) allocates now and then. Under the race detector only the
// queries' results are checked (its sync.Pool drops buffers).
func TestPreparedPointSelectAllocationsOverTCP(t *testing.T) {
	query := preparedPointSelect(t)
	query() // the shard connection prepares the statement
	least := -1.0
	for range 3 {
		if a := testing.AllocsPerRun(300, query); least < 0 || a < least {
			least = a
		}
	}
	if least > 2 && !raceEnabled {
		t.Errorf("a prepared point select over TCP allocates %.1f times, want <= 2", least)
	}
}

// BenchmarkRawPreparedPointSelect: the same as a benchmark (allocations
// reported are the gateway's).
func BenchmarkRawPreparedPointSelect(b *testing.B) {
	query := preparedPointSelect(b)
	b.ReportAllocs()
	for b.Loop() {
		query()
	}
}
