package gateway

import (
	"bytes"
	"testing"

	"github.com/shardgate/shardgate/wire"
)

// packetLog is a client connection that keeps the payloads written to it.
type packetLog struct{ payloads [][]byte }

func (p *packetLog) WritePacket(data []byte) error {
	p.payloads = append(p.payloads, bytes.Clone(data[wire.HeaderSize:]))
	return nil
}
func (p *packetLog) HasCapability(uint32) bool { return false }

// TestPointSelectForwardsRows: a text point select (a one-shard Route)
// reaches the client as the shard's own packets — its column definition
// and row payload byte for byte — without the gateway splitting the row
// into values, and costs at most 2 allocations (its shard query and keyspace id; 6 on
// the decoding path before the one-shard fast path).
func TestPointSelectForwardsRows(t *testing.T) {
	s, fake := benchSession(t, 0)
	log := &packetLog{}
	s.w.Conn = log
	s.runQuery("SELECT c FROM sbtest1 WHERE id=42")
	if fake.forwarded != 1 {
		t.Fatalf("forwarded %d shard queries, want 1 (the point select)", fake.forwarded)
	}
	want := [][]byte{{1}, fake.fields.Fields[0].Data, nil /* EOF */, fake.payload, nil /* EOF */}
	if len(log.payloads) != len(want) {
		t.Fatalf("client got %d packets, want %d: %q", len(log.payloads), len(want), log.payloads)
	}
	for i, w := range want {
		if w != nil && !bytes.Equal(log.payloads[i], w) {
			t.Errorf("packet %d: got %q, want the shard's %q", i, log.payloads[i], w)
		}
	}
	if s.stmt.rows != 1 {
		t.Errorf("statement rows = %d, want 1 (metrics and the query log count forwarded rows)", s.stmt.rows)
	}

	s.w.Conn = discardConn{}
	qs := pointSelects(100)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		s.runQuery(qs[i%len(qs)])
		i++
	})
	if allocs > 2 {
		t.Errorf("a forwarded point select allocates %.1f times, want <= 2", allocs)
	}
}
