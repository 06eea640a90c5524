package reshard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// The test keyspace: customers split by id, orders (a two-column primary
// key) by customer, and a reference table every shard holds whole.
const (
	testKeyspace = "ks"
	customers    = 3000
	ordersEach   = 1 // orders per customer
)

var testSchema = []string{
	"CREATE TABLE customer (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64), note BLOB, score DOUBLE)",
	"CREATE TABLE orders (customer_id BIGINT NOT NULL, seq INT NOT NULL, item VARCHAR(32), PRIMARY KEY (customer_id, seq))",
	"CREATE TABLE region (code CHAR(2) NOT NULL PRIMARY KEY, name VARCHAR(32))",
}

func testVSchema() *vschema.Keyspace {
	return &vschema.Keyspace{
		Sharded:  true,
		Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
		Tables: map[string]*vschema.Table{
			"customer": {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}}},
			"orders":   {ColumnVindexes: []*vschema.ColumnVindex{{Column: "customer_id", Name: "hash"}}},
			"region":   {Type: vschema.TypeReference},
		},
	}
}

var rootConn = tablet.ConnConfig{User: tablet.RootUser}

// splitEnv is a keyspace of two shards (-80, 80-) with rows, and four
// running, registered, empty primaries for -40, 40-80, 80-c0, c0-.
type splitEnv struct {
	cluster *localcluster.Cluster
	store   *topo.Store
	hash    vindex.Functional
	targets map[string]*tablet.Mysqld
	rows    int // rows of the split tables
}

func startSplitEnv(t *testing.T) *splitEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cl, err := localcluster.Start(ctx, localcluster.Config{
		Dir:       t.TempDir(),
		Keyspaces: []localcluster.KeyspaceSpec{{Name: testKeyspace, Shards: 2, VSchema: testVSchema()}},
		EtcdAddr:  "127.0.0.1:0",
		Logger:    tablettest.Logger(t),
	})
	if err != nil {
		t.Fatalf("localcluster: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cl.Stop(ctx); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	env := &splitEnv{cluster: cl, store: cl.Store, targets: map[string]*tablet.Mysqld{}}
	snap, err := cl.Store.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env.hash = snap.VSchema.Keyspaces[testKeyspace].Vindexes["hash"].(vindex.Functional)

	// The rows, each on the source shard that owns it.
	var wg sync.WaitGroup
	for _, name := range []string{"-80", "80-"} {
		kr, _ := vindex.ParseKeyRange(name)
		conn := env.dial(t, cl.Primary(testKeyspace, name).Mysqld.Addr())
		for _, q := range testSchema {
			env.exec(t, conn, q)
		}
		env.exec(t, conn, "INSERT INTO region VALUES ('eu', 'Europe'), ('kr', 'Korea'), ('us', 'United States')")
		var cust, ord []string
		for id := 1; id <= customers; id++ {
			if !kr.Contains(env.keyspaceID(t, int64(id))) {
				continue
			}
			cust = append(cust, fmt.Sprintf("(%d, 'name %d ''q''', X'00ff%04x', %d.25)", id, id, id, id))
			for s := range ordersEach {
				ord = append(ord, fmt.Sprintf("(%d, %d, 'item\\\\%d')", id, s, s))
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			for _, part := range slices.Collect(slices.Chunk(cust, 500)) {
				env.exec(t, conn, "INSERT INTO customer VALUES "+strings.Join(part, ","))
			}
			for _, part := range slices.Collect(slices.Chunk(ord, 500)) {
				env.exec(t, conn, "INSERT INTO orders VALUES "+strings.Join(part, ","))
			}
		}()
	}
	env.rows = customers * (1 + ordersEach)

	// The targets, started in parallel and registered as `shardctl
	// tablet add` does.
	names := []string{"-40", "40-80", "80-c0", "c0-"}
	mysqlds := make([]*tablet.Mysqld, len(names))
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mysqlds[i] = tablettest.StartMysqld(t)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, name := range names {
		tab := &topo.Tablet{Alias: topo.TabletAlias{Cell: "zone1"}, Keyspace: testKeyspace, Shard: name,
			Type: topo.TabletPrimary, Host: "127.0.0.1", Port: mysqlds[i].Port()}
		if err := cl.Store.RegisterTablet(ctx, tab); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
		env.targets[name] = mysqlds[i]
	}
	return env
}

func (e *splitEnv) keyspaceID(t *testing.T, id int64) vindex.KeyspaceID {
	t.Helper()
	ksid, err := e.hash.Map(id)
	if err != nil {
		t.Fatal(err)
	}
	return ksid
}

func (e *splitEnv) dial(t *testing.T, addr string) *tablet.Conn {
	t.Helper()
	cc := rootConn
	cc.Addr, cc.DB = addr, testKeyspace
	conn, err := tablet.Dial(t.Context(), cc)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return conn
}

func (e *splitEnv) exec(t *testing.T, conn *tablet.Conn, q string) *tablet.Result {
	t.Helper()
	res, err := conn.Execute(t.Context(), q)
	if err != nil {
		t.Errorf("%.80s: %v", q, err)
	}
	return res
}

func (e *splitEnv) create(t *testing.T) {
	t.Helper()
	_, err := Create(t.Context(), e.store, rootConn, CreateRequest{
		Keyspace: testKeyspace, Workflow: "split",
		SourceShards: []string{"-80", "80-"}, TargetShards: []string{"-40", "40-80", "80-c0", "c0-"},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
}

// run runs a runner until the workflow leaves state copying (or a
// minute passes), then stops it.
func (e *splitEnv) run(t *testing.T, cfg Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cfg.Store, cfg.Conn, cfg.Logger = e.store, rootConn, tablettest.Logger(t)
	cfg.Interval = 50 * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewRunner(cfg).Run(ctx)
	}()
	for ctx.Err() == nil {
		w, err := e.store.GetWorkflow(ctx, testKeyspace, "split")
		if err == nil && w.State != topo.WorkflowCopying {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	<-done
}

// checkTargets checks that every row is on exactly the target that owns
// it and that the targets hold as many rows as the sources.
func (e *splitEnv) checkTargets(t *testing.T) {
	t.Helper()
	seen := map[string]string{} // "table key" → target
	counts := map[string]int{}
	for name, m := range e.targets {
		kr, _ := vindex.ParseKeyRange(name)
		conn := e.dial(t, m.Addr())
		for _, q := range []struct{ table, query string }{
			{"customer", "SELECT id, name, HEX(note), score FROM customer"},
			{"orders", "SELECT customer_id, seq, item FROM orders"},
		} {
			for _, row := range e.exec(t, conn, q.query).Rows {
				id, _ := strconv.ParseInt(string(row[0]), 10, 64)
				if !kr.Contains(e.keyspaceID(t, id)) {
					t.Errorf("target %s holds %s row %s, whose keyspace id it doesn't own", name, q.table, row[0])
				}
				key := q.table + " " + string(row[0]) + " " + string(row[1])
				if other, ok := seen[key]; ok {
					t.Errorf("%s is on both %s and %s", key, other, name)
				}
				seen[key] = name
				counts[q.table]++
				if q.table == "customer" {
					want := []string{fmt.Sprintf("name %d 'q'", id), fmt.Sprintf("00FF%04X", id), fmt.Sprintf("%d.25", id)}
					if got := []string{string(row[1]), string(row[2]), string(row[3])}; !slices.Equal(got, want) {
						t.Errorf("target %s customer %d: got %q, want %q", name, id, got, want)
					}
				}
			}
		}
		if res := e.exec(t, conn, "SELECT COUNT(*) FROM region"); string(res.Rows[0][0]) != "3" {
			t.Errorf("target %s: got %s region rows, want the 3 of the reference table", name, res.Rows[0][0])
		}
		conn.Close()
	}
	if counts["customer"] != customers || counts["orders"] != customers*ordersEach {
		t.Errorf("rows on the targets: got %v, want %d customers and %d orders", counts, customers, customers*ordersEach)
	}
}

func (e *splitEnv) checkStatus(t *testing.T) {
	t.Helper()
	w, err := e.store.GetWorkflow(t.Context(), testKeyspace, "split")
	if err != nil {
		t.Fatal(err)
	}
	st := StatusOf(w, time.Now())
	if st.State != topo.WorkflowRunning || st.RowsCopied != int64(e.rows) || st.RowsTotal != int64(e.rows) || st.Error != "" {
		t.Errorf("status: got state %s, rows %d/%d, error %q; want running, %d/%d, no error", st.State, st.RowsCopied, st.RowsTotal, st.Error, e.rows, e.rows)
	}
	for _, s := range st.Shards {
		if s.SnapshotGTID == "" || !s.Done {
			t.Errorf("source shard %s: got gtid %q done %v, want a snapshot position and done", s.Shard, s.SnapshotGTID, s.Done)
		}
	}
	t.Logf("copied %d rows at %.0f rows/s", st.RowsCopied, st.CopyRowsPerSecond)
}

func TestCopySplitsTwoShardsIntoFour(t *testing.T) {
	e := startSplitEnv(t)
	e.create(t)
	// The targets are not serving: the gateways keep routing to -80, 80-.
	srv, err := e.store.GetSrvKeyspace(t.Context(), testKeyspace)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Partitions[topo.TabletPrimary]; !slices.Equal(got, []string{"-80", "80-"}) {
		t.Fatalf("serving shards after create: got %v, want [-80 80-]", got)
	}
	// Rows a crashed runner committed on a target without saving its
	// progress (here: stale ones) are written again, not duplicated.
	stale := e.dial(t, e.targets["-40"].Addr())
	for id := int64(1); id <= 50; id++ {
		if kr, _ := vindex.ParseKeyRange("-40"); kr.Contains(e.keyspaceID(t, id)) {
			e.exec(t, stale, fmt.Sprintf("INSERT INTO customer VALUES (%d, 'stale', NULL, 0)", id))
		}
	}
	stale.Close()
	e.run(t, Config{ID: "runner-1", ChunkRows: 700})
	e.checkTargets(t)
	e.checkStatus(t)

	// Targets that hold rows are refused for a new workflow.
	_, err = Create(t.Context(), e.store, rootConn, CreateRequest{Keyspace: testKeyspace, Workflow: "again",
		SourceShards: []string{"-80", "80-"}, TargetShards: []string{"-40", "40-80", "80-c0", "c0-"}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "already has rows") {
		t.Errorf("Create onto filled targets: got %v, want ErrInvalid saying a table already has rows", err)
	}
}

func TestCopyResumesAfterRestart(t *testing.T) {
	e := startSplitEnv(t)
	e.create(t)

	// The first runner is stopped once a few chunks are saved.
	ctx, stopFirst := context.WithCancel(t.Context())
	var mu sync.Mutex
	chunks := 0
	first := NewRunner(Config{Store: e.store, Conn: rootConn, ID: "runner-1", ChunkRows: 300, Interval: 50 * time.Millisecond,
		Logger: tablettest.Logger(t),
		AfterChunk: func(_, _, _ string, p topo.CopyProgress) {
			mu.Lock()
			defer mu.Unlock()
			if p.RowsCopied > 0 {
				if chunks++; chunks == 4 {
					stopFirst()
				}
			}
		}})
	done := make(chan struct{})
	go func() { defer close(done); first.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		stopFirst()
		<-done
		t.Fatal("the first runner didn't copy 4 chunks in a minute")
	}
	w, err := e.store.GetWorkflow(t.Context(), testKeyspace, "split")
	if err != nil {
		t.Fatal(err)
	}
	if w.State != topo.WorkflowCopying || w.RowsCopied() == 0 || w.RowsCopied() >= int64(e.rows) {
		t.Fatalf("after the first runner: got state %s, %d rows copied; want copying, some of %d", w.State, w.RowsCopied(), e.rows)
	}
	saved := map[string]int64{}
	for s, p := range w.Copy {
		saved[s] = p.RowsCopied
	}

	// The second resumes where the first stopped: its first save of each
	// shard already counts what the first copied.
	var resumed sync.Map
	e.run(t, Config{ID: "runner-2", ChunkRows: 300, AfterChunk: func(_, _, shard string, p topo.CopyProgress) {
		resumed.LoadOrStore(shard, p.RowsCopied)
	}})
	for s, n := range saved {
		got, _ := resumed.Load(s)
		if got == nil || got.(int64) < n {
			t.Errorf("source shard %s: the second runner started from %v rows copied, want at least the %d saved", s, got, n)
		}
	}
	e.checkTargets(t)
	e.checkStatus(t)
}
