package gateway_test

import (
	"context"
	"testing"

	"github.com/shardgate/shardgate/tablet"
)

// BenchmarkRawPreparedPointSelect: a prepared point select through the
// shared gateway over TCP from a client that allocates nothing per query
// (tablet.Conn, arguments boxed once), so the allocations reported are
// the gateway's and its shard connection's.
func BenchmarkRawPreparedPointSelect(b *testing.B) {
	mustExec(b, shared.db(b, "service", ""), "CREATE TABLE IF NOT EXISTS real_bench (id BIGINT PRIMARY KEY, c VARCHAR(64))")
	mustExec(b, shared.db(b, "service", ""), "REPLACE INTO real_bench (id, c) VALUES (7, 'seven'), (1007, 'a thousand and seven')")
	c, err := tablet.Dial(context.Background(), tablet.ConnConfig{Addr: shared.Get(b).Gateway.Addr(), User: "root", DB: "service"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	args := []any{int64(1007)}
	rows := 0
	onRow := func([]byte) error { rows++; return nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.StreamPrepared(ctx, "SELECT c FROM real_bench WHERE id = ?", args, nil, onRow); err != nil {
			b.Fatal(err)
		}
	}
	if rows == 0 {
		b.Fatal("no rows")
	}
}
