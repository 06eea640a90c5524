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

// TestPreparedTxControlAllocationsOverTCP: a prepared BEGIN and COMMIT
// (sysbench prepares them) cost the gateway no more than the text ones,
// which skip the parser (txcontrol_text.go): they used to be parsed on
// every execution, tens of allocations each.
func TestPreparedTxControlAllocationsOverTCP(t *testing.T) {
	c, err := tablet.Dial(context.Background(), tablet.ConnConfig{Addr: shared.Get(t).Gateway.Addr(), User: "root", DB: "service"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	pair := func(run func(string) error) func() {
		return func() {
			for _, q := range []string{"BEGIN", "COMMIT"} {
				if err := run(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
		}
	}
	text := pair(func(q string) error { _, err := c.Stream(ctx, q, nil, nil); return err })
	prepared := pair(func(q string) error { _, err := c.StreamPrepared(ctx, q, nil, nil, nil); return err })
	text()
	prepared() // prepares both on the gateway
	least := func(f func()) float64 {
		l := -1.0
		for range 3 {
			if a := testing.AllocsPerRun(200, f); l < 0 || a < l {
				l = a
			}
		}
		return l
	}
	textAllocs, preparedAllocs := least(text), least(prepared)
	t.Logf("BEGIN + COMMIT: text %.1f allocations, prepared %.1f", textAllocs, preparedAllocs)
	if preparedAllocs > textAllocs+1 && !raceEnabled {
		t.Errorf("prepared BEGIN + COMMIT allocate %.1f times, want at most the text ones' %.1f + 1", preparedAllocs, textAllocs)
	}
}
