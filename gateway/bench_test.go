package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/querystats"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
	"github.com/shardgate/shardgate/wire"
)

// The in-process path of a point select: a session runs COM_QUERY text
// (or COM_STMT_EXECUTE arguments) through normalisation, the plan cache,
// the plan's routing (vindex, shard choice, query rendering) and the
// encoding of the result packets, against fake shards that answer every
// query with one sysbench row and a client connection that discards the
// packets. What it leaves out is I/O: the shard round trip and the
// client's socket (measured by the sysbench legs instead).

type discardConn struct{}

func (discardConn) WritePacket([]byte) error    { return nil }
func (discardConn) HasCapability(uint32) bool   { return true }
func (f *fakeShards) flushWarnings()            {}
func (f *fakeShards) AddWarning(uint16, string) {}
func (f *fakeShards) NextSequenceValues(context.Context, string, string, int64) (int64, error) {
	return 1, nil
}

// fakeShards is a VCursor over two shards that answers every query with
// the same row, allocating nothing per query.
type fakeShards struct {
	shards  []engine.ShardRange
	fields  *engine.Result
	rows    *engine.Result
	payload []byte // rows' one row as a text row packet (forwardMulti)
	// binaryPayload is the same row as a binary row packet, as a shard
	// sends it for its prepared statement.
	binaryPayload []byte
	queries       int
	// forwarded counts the queries whose rows passed through;
	// forwardedPrepared those of them run as the shards' prepared
	// statements.
	forwarded, forwardedPrepared int
	last                         string
}

func newFakeShards(tb testing.TB) *fakeShards {
	var ranges []engine.ShardRange
	for _, name := range []string{"-80", "80-"} {
		kr, err := vindex.ParseKeyRange(name)
		if err != nil {
			tb.Fatal(err)
		}
		ranges = append(ranges, engine.ShardRange{Name: name, KeyRange: kr})
	}
	c := make([]byte, 119)
	for i := range c {
		c[i] = '0' + byte(i%10)
	}
	// As from a backend: the column definition's packet bytes are kept.
	field := &mysql.Field{Schema: []byte("service"), Table: []byte("sbtest1"), OrgTable: []byte("sbtest1"),
		Name: []byte("c"), OrgName: []byte("c"), Type: mysql.MYSQL_TYPE_STRING, Charset: 45, ColumnLength: 480}
	field.Data = field.Dump()
	return &fakeShards{
		shards:        ranges,
		fields:        &engine.Result{Fields: []*mysql.Field{field}},
		rows:          &engine.Result{Rows: [][][]byte{{c}}},
		payload:       wire.AppendTextRow(nil, [][]byte{c}),
		binaryPayload: binaryRow(tb, field, c),
	}
}

func binaryRow(tb testing.TB, field *mysql.Field, value []byte) []byte {
	row, err := wire.AppendBinaryRow(nil, []*mysql.Field{field}, [][]byte{value})
	if err != nil {
		tb.Fatal(err)
	}
	return row
}

func (f *fakeShards) Shards(context.Context, string) ([]engine.ShardRange, error) {
	return f.shards, nil
}

func (f *fakeShards) ExecuteMulti(_ context.Context, _ string, shards []string, queries []string) ([]*engine.Result, error) {
	f.noteQuery(queries)
	out := make([]*engine.Result, len(shards))
	for i := range out {
		out[i] = &engine.Result{Fields: f.fields.Fields, Rows: f.rows.Rows}
	}
	return out, nil
}

func (f *fakeShards) noteQuery(queries []string) { f.queries, f.last = f.queries+1, queries[0] }

func (f *fakeShards) StreamMulti(_ context.Context, _ string, shards []string, queries []string, fn func(int, *engine.Result) error) error {
	f.noteQuery(queries)
	for i := range shards {
		if err := fn(i, f.fields); err != nil {
			return err
		}
		if err := fn(i, f.rows); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeShards) canForward(bool) bool { return true }

func (f *fakeShards) forwardMulti(_ context.Context, _ string, shards []string, queries []string, fw *rowForward) error {
	payload := f.payload
	if fw.prepared != nil {
		f.noteQuery([]string{fw.prepared.Text})
		f.forwardedPrepared++
		payload = f.binaryPayload
	} else {
		f.noteQuery(queries)
	}
	f.forwarded++
	for range shards {
		if err := fw.onFields(f.fields.Fields); err != nil {
			return err
		}
		if err := fw.onRow(payload); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeShards) Session() engine.SessionActions { return nil }

func (f *fakeShards) AutoAddTable(context.Context, string, string, string) (string, error) {
	return "hash", nil
}

// benchSession is a session of a gateway whose topology has keyspace
// service (sharded by hash on sbtest1.id) and whose shards are fake.
func benchSession(tb testing.TB, planCacheEntries int) (*session, *fakeShards) {
	vs, err := vschema.Build(map[string]*vschema.Keyspace{
		"service": {
			Sharded:  true,
			Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			Tables: map[string]*vschema.Table{"sbtest1": {
				ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}},
			}},
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	srv := &Server{
		logger: logger,
		topo:   newTopology(BackendConfig{}, "", logger),
		plans:  newPlanCache(planCacheEntries, 0),
		ctx:    context.Background(),
		// As a gateway runs by default: metrics and query digests on.
		metrics: newMetrics(),
		digests: querystats.NewTable(0),
	}
	srv.topo.current.Store(&routing{snap: &topo.Snapshot{VSchema: vs}})
	fake := newFakeShards(tb)
	s := newSession(srv)
	s.w.Conn = discardConn{}
	s.account = acl.Insecure("bench", acl.NativePassword) // every privilege, as a gateway's root
	s.keyspace = "service"
	s.fakeCursor = func(*routing) execCursor { return fake }
	return s, fake
}

func pointSelects(n int) []string {
	qs := make([]string, n)
	for i := range qs {
		qs[i] = fmt.Sprintf("SELECT c FROM sbtest1 WHERE id=%d", 1+i*37)
	}
	return qs
}

// TestBenchSessionRoutes checks the benchmark measures what it says: the
// point select reaches one shard with its own literal.
func TestBenchSessionRoutes(t *testing.T) {
	for _, entries := range []int{0, -1} {
		s, fake := benchSession(t, entries)
		for range 3 {
			s.runQuery("SELECT c FROM sbtest1 WHERE id=42")
		}
		if fake.queries != 3 || fake.last != "select `c` from `sbtest1` where `id` = 42" {
			t.Errorf("plan cache entries %d: %d shard queries, last %q; want 3, the point select with id 42", entries, fake.queries, fake.last)
		}
		if len(s.warnings) != 0 {
			t.Errorf("warnings: %v", s.warnings)
		}
	}
}

// BenchmarkPointSelectCached: COM_QUERY of a point select, plan from the
// cache (target: <= 5 µs and <= 20 allocations).
func BenchmarkPointSelectCached(b *testing.B) {
	s, _ := benchSession(b, 0)
	qs := pointSelects(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.runQuery(qs[i%len(qs)])
		i++
	}
}

// BenchmarkPointSelectUncached is the same with no plan cache: parse and
// plan every statement (the gateway before the cache).
func BenchmarkPointSelectUncached(b *testing.B) {
	s, _ := benchSession(b, -1)
	qs := pointSelects(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.runQuery(qs[i%len(qs)])
		i++
	}
}

// BenchmarkPointSelectPrepared: COM_STMT_EXECUTE of a prepared point
// select, binary result row.
func BenchmarkPointSelectPrepared(b *testing.B) {
	s, _ := benchSession(b, 0)
	args := []any{int64(0)}
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		args[0] = 1 + i%100*37
		const q = "SELECT c FROM sbtest1 WHERE id=?"
		if err := s.endStatement(s.runOne(s.beginStatement(q), nil, q, args, true)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkNormalizeAndCacheHit: the lexer and the cache lookup alone.
func BenchmarkNormalizeAndCacheHit(b *testing.B) {
	s, _ := benchSession(b, 0)
	s.runQuery("SELECT c FROM sbtest1 WHERE id=1")
	vs := s.srv.topo.current.Load().snap.VSchema
	var key []byte
	var args []any
	b.ReportAllocs()
	for b.Loop() {
		key = appendPlanKey(key[:0], s.target(), planKeyQuery)
		var ok bool
		key, args, ok = planner.AppendNormalized(key, "SELECT c FROM sbtest1 WHERE id=5012", args[:0])
		if !ok {
			b.Fatal("not normalised")
		}
		if _, hit := s.srv.plans.get(key, vs); !hit {
			b.Fatal("miss")
		}
	}
}
