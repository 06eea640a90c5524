package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql" // the writer's and loader's driver

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

const (
	keyspace = "bench_r"
	workflow = "split"
	table    = "sbtest1"
)

var (
	sourceShards = []string{"-80", "80-"}
	targetShards = []string{"-40", "40-80", "80-c0", "c0-"}
)

// The table has sysbench's shape, so its rows are the size of the rows
// other tools' published copy rates were measured with.
const createTable = "CREATE TABLE " + table + ` (
  id BIGINT NOT NULL PRIMARY KEY,
  k INT NOT NULL DEFAULT 0,
  c CHAR(120) NOT NULL DEFAULT '',
  pad CHAR(60) NOT NULL DEFAULT '',
  KEY k_1 (k))`

// env is the cluster, its gateway and the resharding controller; close
// stops them all.
type env struct {
	dir     string
	keep    bool
	cluster *localcluster.Cluster
	gw      *gateway.Server
	db      *sql.DB // the application's connections to the gateway
	logger  *slog.Logger

	stopRunner func()
}

func startEnv(ctx context.Context, o options, log io.Writer) (_ *env, err error) {
	dir, err := os.MkdirTemp("", "shardgate-reshardbench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, keep: o.keep, logger: slog.New(slog.DiscardHandler)}
	if o.verbose {
		e.logger = slog.New(slog.NewTextHandler(log, nil))
	}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	fmt.Fprintf(log, "reshardbench: starting a local cluster in %s\n", dir)
	e.cluster, err = localcluster.Start(ctx, localcluster.Config{
		Dir:      filepath.Join(dir, "cluster"),
		EtcdAddr: "127.0.0.1:0",
		Logger:   e.logger,
		Keyspaces: []localcluster.KeyspaceSpec{{Name: keyspace, Shards: len(sourceShards), VSchema: &vschema.Keyspace{
			Sharded:  true,
			Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			Tables:   map[string]*vschema.Table{table: {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}}}},
		}}},
	})
	if err != nil {
		return nil, fmt.Errorf("local cluster: %w", err)
	}
	// As under `shardgate up`: create may name targets without instances,
	// started below (localcluster.AddShard).
	if err := e.cluster.Store.SetLocalProvisioner(ctx, e.cluster.Dir()); err != nil {
		return nil, err
	}
	e.gw, err = gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: e.cluster.Store, Logger: e.logger})
	if err == nil {
		err = e.gw.Start(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	e.db, err = sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/%s", e.gw.Addr(), keyspace))
	if err != nil {
		return nil, err
	}
	if _, err := e.db.ExecContext(ctx, createTable); err != nil {
		return nil, fmt.Errorf("create table through the gateway: %w", err)
	}
	return e, nil
}

func (e *env) close() {
	if e.stopRunner != nil {
		e.stopRunner()
	}
	if e.db != nil {
		e.db.Close()
	}
	if e.gw != nil {
		e.gw.Close()
	}
	if e.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		e.cluster.Stop(ctx)
	}
	if !e.keep {
		os.RemoveAll(e.dir)
	}
}

// shardDB opens root's connections to a shard's primary.
func (e *env) shardDB(shard string) (*sql.DB, error) {
	in := e.cluster.Primary(keyspace, shard)
	if in == nil {
		return nil, fmt.Errorf("no primary instance of %s/%s", keyspace, shard)
	}
	return sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/%s", in.Mysqld.Addr(), keyspace))
}

// load writes rows 1..n into the source shards directly, each on the
// shard owning its keyspace id, in multi-row INSERTs, one loader per
// shard. The binlog is off for the load: catch-up starts at the copy's
// snapshot, so rows written before it need none (and the load is faster).
func (e *env) load(ctx context.Context, n int) error {
	snap, err := e.cluster.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	hash, ok := snap.VSchema.Keyspaces[keyspace].Vindexes["hash"].(vindex.Functional)
	if !ok {
		return fmt.Errorf("keyspace %s: no functional vindex hash", keyspace)
	}
	ranges := map[string]vindex.KeyRange{}
	for _, s := range sourceShards {
		if ranges[s], err = vindex.ParseKeyRange(s); err != nil {
			return err
		}
	}
	ids := map[string][]int64{}
	for id := int64(1); id <= int64(n); id++ {
		ksid, err := hash.Map(id)
		if err != nil {
			return err
		}
		for s, kr := range ranges {
			if kr.Contains(ksid) {
				ids[s] = append(ids[s], id)
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(sourceShards))
	for _, s := range sourceShards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.loadShard(ctx, s, ids[s])
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *env) loadShard(ctx context.Context, shard string, ids []int64) error {
	db, err := e.shardDB(shard)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_log_bin = 0"); err != nil {
		return err
	}
	const batch = 2000
	var b strings.Builder
	for start := 0; start < len(ids); start += batch {
		b.Reset()
		b.WriteString("INSERT INTO " + table + " (id, k, c, pad) VALUES ")
		for i, id := range ids[start:min(start+batch, len(ids))] {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d,%d,'%s','%s')", id, id%100000, rowText(id, 119), rowText(id*7, 59))
		}
		if _, err := conn.ExecContext(ctx, b.String()); err != nil {
			return fmt.Errorf("load %s: %w", shard, err)
		}
	}
	return nil
}

// rowText is sysbench-like filler: groups of digits from seed, n bytes.
func rowText(seed int64, n int) string {
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, "%011d-", seed)
		seed = seed*6364136223846793005 + 1442695040888963407
		if seed < 0 {
			seed = -seed
		}
	}
	return b.String()[:n]
}

// startRunner runs the resharding controller in this process until
// close.
func (e *env) startRunner(chunkRows int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		reshard.NewRunner(reshard.Config{Store: e.cluster.Store, Conn: tablet.ConnConfig{User: tablet.RootUser},
			ID: "reshardbench", Interval: 200 * time.Millisecond, ChunkRows: chunkRows, Logger: e.logger}).Run(ctx)
	}()
	e.stopRunner = func() { cancel(); <-done }
}

// createWorkflow records the split and starts its targets, as `shardctl
// reshard create` and `shardgate up`'s provisioner do.
func (e *env) createWorkflow(ctx context.Context) error {
	store := e.cluster.Store
	if _, err := reshard.Create(ctx, store, tablet.ConnConfig{User: tablet.RootUser}, reshard.CreateRequest{
		Keyspace: keyspace, Workflow: workflow, SourceShards: sourceShards, TargetShards: targetShards,
	}); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(targetShards))
	for _, s := range targetShards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.cluster.AddShard(ctx, keyspace, s)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return fmt.Errorf("start target: %w", err)
		}
	}
	return reshard.PrepareTargets(ctx, store, tablet.ConnConfig{User: tablet.RootUser}, keyspace, workflow)
}

// switchWrites asks the controller for a write switch and waits for it,
// as `shardctl reshard switch-traffic --writes` (forward) and
// `reverse-traffic` do; reads go along (a forward switch needs them
// switched first).
func (e *env) switchWrites(ctx context.Context, dir topo.SwitchDirection) (*topo.Workflow, error) {
	store := e.cluster.Store
	if dir == topo.SwitchForward {
		if _, err := reshard.SwitchReads(ctx, store, keyspace, workflow, topo.ReadSwitchScale); err != nil {
			return nil, fmt.Errorf("switch reads: %w", err)
		}
	}
	ws, err := reshard.RequestWriteSwitch(ctx, store, keyspace, workflow, dir, 0)
	if err != nil {
		return nil, fmt.Errorf("write switch %s: %w", dir, err)
	}
	w, err := reshard.AwaitWriteSwitch(ctx, store, keyspace, workflow, ws.ID, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("write switch %s: %w", dir, err)
	}
	return w, nil
}

// status is the workflow's status now.
func (e *env) status(ctx context.Context) (reshard.Status, error) {
	w, err := e.cluster.Store.GetWorkflow(ctx, keyspace, workflow)
	if err != nil {
		return reshard.Status{}, err
	}
	return reshard.StatusOf(w, time.Now()), nil
}

// waitState polls the workflow until done says so, failing on state
// error.
func (e *env) waitState(ctx context.Context, limit time.Duration, done func(reshard.Status) bool) (reshard.Status, error) {
	deadline := time.Now().Add(limit)
	for {
		st, err := e.status(ctx)
		if err != nil {
			return st, err
		}
		if st.State == topo.WorkflowError {
			return st, fmt.Errorf("workflow in state error: %s", st.Error)
		}
		if done(st) {
			return st, nil
		}
		if time.Now().After(deadline) {
			lag := "unknown"
			if st.LagSeconds != nil {
				lag = fmt.Sprintf("%.1fs", *st.LagSeconds)
			}
			return st, fmt.Errorf("workflow still %s after %v (%d/%d rows copied, lag %s)", st.State, limit, st.RowsCopied, st.RowsTotal, lag)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
