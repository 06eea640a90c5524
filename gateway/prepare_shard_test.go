package gateway

import (
	"bytes"
	"testing"
)

// TestPreparedPointSelectForwardsBinaryRows: a COM_STMT_EXECUTE of a
// point select runs on its shard as the shard's prepared statement (the
// route's query with its '?' marker, never rendered as text) and the
// shard's binary row reaches the client byte for byte, through the same
// forwarder as text rows.
func TestPreparedPointSelectForwardsBinaryRows(t *testing.T) {
	s, fake := benchSession(t, 0)
	log := &packetLog{}
	s.w.Conn = log
	const q = "SELECT c FROM sbtest1 WHERE id=?"
	if err := s.endStatement(s.runOne(s.beginStatement(q), q, []any{int64(42)}, true)); err != nil {
		t.Fatal(err)
	}
	if fake.forwardedPrepared != 1 || fake.last != "select `c` from `sbtest1` where `id` = ?" {
		t.Fatalf("%d prepared shard statements, last %q; want 1, the point select with its marker", fake.forwardedPrepared, fake.last)
	}
	want := [][]byte{{1}, fake.fields.Fields[0].Data, nil /* EOF */, fake.binaryPayload, nil /* EOF */}
	if len(log.payloads) != len(want) {
		t.Fatalf("client got %d packets, want %d: %q", len(log.payloads), len(want), log.payloads)
	}
	for i, w := range want {
		if w != nil && !bytes.Equal(log.payloads[i], w) {
			t.Errorf("packet %d: got %q, want the shard's %q", i, log.payloads[i], w)
		}
	}
	if s.stmt.rows != 1 {
		t.Errorf("statement rows = %d, want 1", s.stmt.rows)
	}
	if len(s.forward.args) != 0 || s.forward.prepared != nil {
		t.Errorf("the forwarder keeps the statement's arguments after it: %v", s.forward.args)
	}
}
