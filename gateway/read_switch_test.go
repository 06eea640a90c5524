package gateway

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// The fake topology of these tests: keyspace ks split -80,80- (serving)
// into -40,40-80,80-c0,c0- (not serving), with a read switch of
// per10000 (none when 0).
var (
	readSources = []string{"-80", "80-"}
	readTargets = []string{"-40", "40-80", "80-c0", "c0-"}
)

func readSwitchServer(t *testing.T, per10000 int) *Server {
	t.Helper()
	vs, err := vschema.Build(map[string]*vschema.Keyspace{"ks": {
		Sharded:  true,
		Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
		Tables: map[string]*vschema.Table{"t": {
			ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	snap := &topo.Snapshot{
		Keyspaces: map[string]*topo.Keyspace{"ks": {Name: "ks", Sharded: true}},
		Shards:    map[string][]*topo.Shard{},
		Srv: map[string]*topo.SrvKeyspace{"ks": {Name: "ks", Sharded: true, Partitions: map[topo.TabletType][]string{
			topo.TabletPrimary: readSources, topo.TabletReplica: readSources,
		}}},
		VSchema: vs,
	}
	for _, name := range append(slices.Clone(readSources), readTargets...) {
		kr, err := vindex.ParseKeyRange(name)
		if err != nil {
			t.Fatal(err)
		}
		snap.Shards["ks"] = append(snap.Shards["ks"], &topo.Shard{Keyspace: "ks", Name: name, KeyRange: kr,
			Serving: slices.Contains(readSources, name)})
	}
	// Every shard has a primary; only the sources have replicas.
	for i, sh := range snap.Shards["ks"] {
		alias := topo.TabletAlias{Cell: "zone1", UID: uint32(1 + 2*i)}
		sh.PrimaryAlias = &alias
		snap.Tablets = append(snap.Tablets, &topo.Tablet{Alias: alias, Keyspace: "ks", Shard: sh.Name, Type: topo.TabletPrimary, Host: "127.0.0.1", Port: 1 + 2*i})
		if sh.Serving {
			snap.Tablets = append(snap.Tablets, &topo.Tablet{Alias: topo.TabletAlias{Cell: "zone1", UID: uint32(2 + 2*i)},
				Keyspace: "ks", Shard: sh.Name, Type: topo.TabletReplica, Host: "127.0.0.1", Port: 2 + 2*i})
		}
	}
	if per10000 > 0 {
		snap.Srv["ks"].ReadSwitch = &topo.ReadSwitch{Workflow: "split", Shards: readTargets, Per10000: per10000}
	}
	logger := slog.New(slog.DiscardHandler)
	srv := &Server{logger: logger, topo: newTopology(BackendConfig{}, "", logger), plans: newPlanCache(0, 0), ctx: context.Background()}
	srv.topo.update(snap)
	t.Cleanup(srv.topo.close)
	return srv
}

// shardLog is a session's vcursor that records the shards it is sent to
// instead of reaching them.
type shardLog struct {
	*vcursor
	shards []string
}

func (l *shardLog) ExecuteMulti(_ context.Context, _ string, shards []string, _ []string) ([]*engine.Result, error) {
	l.shards = append(l.shards, shards...)
	return make([]*engine.Result, len(shards)), nil
}

func (l *shardLog) StreamMulti(_ context.Context, _ string, shards []string, _ []string, _ func(int, *engine.Result) error) error {
	l.shards = append(l.shards, shards...)
	return nil
}

func buildPlan(t *testing.T, srv *Server, sql string) *planner.Plan {
	t.Helper()
	stmts, err := planner.NewParser().Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planner.Build(stmts[0], sql, srv.topo.current.Load().snap.VSchema, planner.Target{Keyspace: "ks"})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// runLogged runs plan in session s and returns the shards it reached.
func runLogged(t *testing.T, s *session, plan *planner.Plan) []string {
	t.Helper()
	r := s.srv.topo.current.Load()
	l := &shardLog{vcursor: s.cursor(r, plan).(*vcursor)}
	var err error
	if plan.Type == planner.StmtSelect {
		err = plan.Root.Stream(context.Background(), l, nil, func(*engine.Result) error { return nil })
	} else {
		_, err = plan.Root.Execute(context.Background(), l, nil)
	}
	if err != nil {
		t.Fatalf("%s: %v", plan.Original, err)
	}
	return l.shards
}

// side says which shard set a list of shards belongs to.
func side(t *testing.T, sql string, shards []string) string {
	t.Helper()
	switch {
	case len(shards) > 0 && !slices.ContainsFunc(shards, func(s string) bool { return !slices.Contains(readSources, s) }):
		return "sources"
	case len(shards) > 0 && !slices.ContainsFunc(shards, func(s string) bool { return !slices.Contains(readTargets, s) }):
		return "targets"
	}
	t.Fatalf("%s reached %v: neither only sources nor only targets", sql, shards)
	return ""
}

// TestReadSwitchShareOfSessions: with the share at 0 no session reads the
// targets, at 100% every one does, at 50% about half do; every session
// keeps its side across statements.
func TestReadSwitchShareOfSessions(t *testing.T) {
	const sessions = 2000
	for _, tc := range []struct {
		per10000 int
		lo, hi   int // sessions on the targets, inclusive
	}{
		{0, 0, 0},
		{10000, sessions, sessions},
		{5000, sessions * 45 / 100, sessions * 55 / 100},
		{100, 1, sessions * 3 / 100}, // 1%
	} {
		srv := readSwitchServer(t, tc.per10000)
		point := buildPlan(t, srv, "select * from t where id = 7")
		scatter := buildPlan(t, srv, "select * from t")
		onTargets := 0
		for range sessions {
			s := newSession(srv)
			first := side(t, point.Original, runLogged(t, s, point))
			for _, plan := range []*planner.Plan{point, scatter, point} {
				if got := side(t, plan.Original, runLogged(t, s, plan)); got != first {
					t.Fatalf("per_10000=%d: a session read from the %s, then %s from the %s: want one side", tc.per10000, first, plan.Original, got)
				}
			}
			if first == "targets" {
				onTargets++
			}
		}
		if onTargets < tc.lo || onTargets > tc.hi {
			t.Errorf("per_10000=%d: %d of %d sessions read the targets, want %d..%d", tc.per10000, onTargets, sessions, tc.lo, tc.hi)
		}
	}
}

// TestReadSwitchSourcesOnly: at 100%, writes, locking reads, reads in a
// transaction (explicit, or autocommit off) and `@replica` reads while
// the targets have no replicas still go to the sources.
func TestReadSwitchSourcesOnly(t *testing.T) {
	srv := readSwitchServer(t, 10000)
	read := buildPlan(t, srv, "select * from t where id = 7")
	s := newSession(srv)
	if got := side(t, read.Original, runLogged(t, s, read)); got != "targets" {
		t.Fatalf("read outside a transaction at 100%%: went to the %s, want targets", got)
	}
	for _, sql := range []string{
		"update t set x = 1 where id = 7",
		"delete from t where id = 7",
		"select * from t where id = 7 for update",
		"select * from t where id = 7 lock in share mode",
	} {
		plan := buildPlan(t, srv, sql)
		if got := side(t, sql, runLogged(t, s, plan)); got != "sources" {
			t.Errorf("%s at 100%%: went to the %s, want sources", sql, got)
		}
	}
	replica := newSession(srv)
	replica.tabletType = topo.TabletReplica
	if got := side(t, read.Original, runLogged(t, replica, read)); got != "sources" {
		t.Errorf("@replica read at 100%% while the targets have no replicas: went to the %s, want sources", got)
	}
	s.txMode = modeMulti      // no 2PC coordinator in this fake
	s.tx = s.newTransaction() // BEGIN, or autocommit off (execPlan opens it)
	if got := side(t, read.Original, runLogged(t, s, read)); got != "sources" {
		t.Errorf("read in a transaction at 100%%: went to the %s, want sources", got)
	}
	s.tx = nil
	if got := side(t, read.Original, runLogged(t, s, read)); got != "targets" {
		t.Errorf("read after the transaction: went to the %s, want targets", got)
	}
}

// TestReadSwitchCachedPlanFollowsSide: one cached plan, run by sessions
// on either side and across a change of the switch, reaches the shard set
// of the running session and the current graph: plans hold no shard list.
func TestReadSwitchCachedPlanFollowsSide(t *testing.T) {
	srv := readSwitchServer(t, 5000)
	key := []byte("q-ks\x00\x00select * from t where id = :v1")
	plan := buildPlan(t, srv, "select * from t where id = 7")
	vs := srv.topo.current.Load().snap.VSchema
	srv.plans.put(string(key), vs, plan)

	var onSources, onTargets *session
	for onSources == nil || onTargets == nil {
		s := newSession(srv)
		if s.readDraw < 5000 {
			onTargets = s
		} else {
			onSources = s
		}
	}
	for _, tc := range []struct {
		s    *session
		want string
	}{{onTargets, "targets"}, {onSources, "sources"}, {onTargets, "targets"}} {
		e, hit := srv.plans.get(key, vs)
		if !hit || e.plan != plan {
			t.Fatal("plan cache: want a hit on the cached plan")
		}
		shards := runLogged(t, tc.s, e.plan)
		if got := side(t, plan.Original, shards); got != tc.want {
			t.Errorf("cached plan in a session with draw %d: reached %v (%s), want the %s", tc.s.readDraw, shards, got, tc.want)
		}
	}
	// The switch taken back: the same plan object reaches the sources.
	snap := *srv.topo.current.Load().snap
	snap.Srv = map[string]*topo.SrvKeyspace{"ks": {Name: "ks", Sharded: true, Partitions: snap.Srv["ks"].Partitions}}
	srv.topo.update(&snap)
	if shards := runLogged(t, onTargets, plan); side(t, plan.Original, shards) != "sources" {
		t.Errorf("after the switch is removed: reached %v, want the sources", shards)
	}
	js, err := engine.PlanJSON(plan.Root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(slices.Clone(readSources), readTargets...) {
		if strings.Contains(string(js), `"`+name+`"`) {
			t.Errorf("plan names shard %s: %s", name, js)
		}
	}
}
