package gateway

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/stmt"

	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
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
	if err := s.endStatement(s.runOne(s.beginStatement(q), nil, q, []any{int64(42)}, true)); err != nil {
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

// TestPreparedPointSelectAllocations pins what a prepared point select
// costs the gateway in allocations, from the COM_STMT_EXECUTE payload to
// the forwarded binary row (decodeExecute, the plan cache, routing,
// forwarding; fake shards): the boxed argument and the hash vindex's
// keyspace id. go-mysql's path cost 11 through a real shard (its packet
// buffer, argument slice and boxing, NormalizeArgs' copy, Route.Stream's
// closure and slices, the rendered shard query).
func TestPreparedPointSelectAllocations(t *testing.T) {
	s, fake := benchSession(t, 0)
	const q = "SELECT c FROM sbtest1 WHERE id=?"
	s.stmts = map[uint32]*stmtHandle{9: {ps: &stmt.PreparedStmt{ID: 9, Params: 1}, query: q, params: 1}}
	payloads := make([][]byte, 100)
	for i := range payloads {
		// As sysbench sends its ids: a LONG.
		payloads[i] = []byte{mysql.COM_STMT_EXECUTE, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, mysql.MYSQL_TYPE_LONG, 0}
		payloads[i] = binary.LittleEndian.AppendUint32(payloads[i], uint32(1000+i*37))
	}
	run := func(payload []byte) {
		h, args, ok := s.decodeExecute(payload)
		if !ok {
			t.Fatalf("execute %x not decoded", payload)
		}
		s.runDecoded(h, args)
	}
	run(payloads[0])
	if fake.forwardedPrepared != 1 || s.stmt.rows != 1 {
		t.Fatalf("%d prepared shard statements, %d rows; want 1, 1", fake.forwardedPrepared, s.stmt.rows)
	}
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		run(payloads[i%len(payloads)])
		i++
	})
	if allocs > 2 {
		t.Errorf("a prepared point select allocates %.1f times, want <= 2", allocs)
	}
}

// TestPreparedStatementKeepsItsPlan: a prepared statement the session
// executes itself runs the plan it ran last without looking its text up
// in the plan cache again (counted as a hit), and never past a topology
// change: a new vschema makes it look the statement up again (a miss,
// planned against the new vschema).
func TestPreparedStatementKeepsItsPlan(t *testing.T) {
	s, fake := benchSession(t, 0)
	const q = "SELECT c FROM sbtest1 WHERE id=?"
	h := &stmtHandle{ps: &stmt.PreparedStmt{ID: 3, Params: 1}, query: q, params: 1}
	s.stmts = map[uint32]*stmtHandle{3: h}
	payload := []byte{mysql.COM_STMT_EXECUTE, 3, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, mysql.MYSQL_TYPE_LONGLONG, 0, 42, 0, 0, 0, 0, 0, 0, 0}
	run := func() {
		t.Helper()
		hh, args, ok := s.decodeExecute(payload)
		if !ok || hh != h {
			t.Fatalf("execute %x not decoded", payload)
		}
		s.runDecoded(hh, args)
	}
	run()
	first := s.srv.plans.stats()
	if first.Misses != 1 || h.plan == nil {
		t.Fatalf("first execution: %+v, kept plan %v; want one miss and the plan kept", first, h.plan)
	}
	// Gone from the cache (evicted, say): the statement still has it, so
	// a lookup would be a miss and the kept plan is not.
	sh := h.plan.shard
	sh.mu.Lock()
	delete(sh.entries, h.plan.key)
	sh.mu.Unlock()
	run()
	if st := s.srv.plans.stats(); st.Misses != first.Misses || st.Hits != first.Hits+1 {
		t.Errorf("second execution: plan cache %+v after %+v, want one hit and no lookup (a lookup misses)", st, first)
	}

	// A topology change: a new compiled vschema.
	old := s.srv.topo.current.Load()
	vs, err := vschema.Build(map[string]*vschema.Keyspace{"service": old.snap.VSchema.Keyspaces["service"].Raw})
	if err != nil {
		t.Fatal(err)
	}
	s.srv.topo.current.Store(&routing{snap: &topo.Snapshot{VSchema: vs}})
	run()
	if st := s.srv.plans.stats(); st.Misses != first.Misses+1 || h.plan.vs != vs {
		t.Errorf("after a new vschema: plan cache %+v, kept plan's vschema is the new one: %v; want a miss and the plan rebuilt", st, h.plan.vs == vs)
	}
	if fake.queries != 3 || fake.last != "select `c` from `sbtest1` where `id` = ?" {
		t.Errorf("%d shard statements, last %q", fake.queries, fake.last)
	}
}
