package gateway

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// TestReplicaSelection: which pool a replica read of a shard gets, by the
// replicas' health records: good ones round-robin, the local cell first;
// a stale record counts as none (the replica serves); with no good
// replica the primary, or with replica_reads strict error 1105.
func TestReplicaSelection(t *testing.T) {
	primary := topo.TabletAlias{Cell: "zone1", UID: 1}
	local := topo.TabletAlias{Cell: "zone1", UID: 2}
	remote := topo.TabletAlias{Cell: "zone2", UID: 3}
	snap := &topo.Snapshot{
		Keyspaces: map[string]*topo.Keyspace{"ks": {Name: "ks"}},
		Shards:    map[string][]*topo.Shard{"ks": {{Keyspace: "ks", Name: "0", PrimaryAlias: &primary}}},
		Tablets: []*topo.Tablet{
			{Alias: primary, Keyspace: "ks", Shard: "0", Type: topo.TabletPrimary, Host: "127.0.0.1", Port: 1},
			{Alias: local, Keyspace: "ks", Shard: "0", Type: topo.TabletReplica, Host: "127.0.0.1", Port: 2},
			{Alias: remote, Keyspace: "ks", Shard: "0", Type: topo.TabletReplica, Host: "127.0.0.1", Port: 3},
		},
	}
	srv := &Server{cfg: Config{ReplicaLagLimit: 10 * time.Second}, topo: newTopology(BackendConfig{}, "zone1", slog.New(slog.DiscardHandler))}
	defer srv.topo.close()
	srv.topo.update(snap)
	r := srv.topo.current.Load()
	s := &session{srv: srv, tabletType: topo.TabletReplica}
	addrOf := func() string {
		t.Helper()
		p, err := s.tabletPool(r, "ks", "0")
		if err != nil {
			t.Fatalf("tabletPool: %v", err)
		}
		return portOf(p)
	}
	now := time.Now()
	lag := func(n int64) *int64 { return &n }
	good := func(a topo.TabletAlias, l int64) *topo.TabletHealth {
		return &topo.TabletHealth{Alias: a, Reachable: true, Replicating: true, IORunning: true, SQLRunning: true, LagSeconds: lag(l), CheckedAt: now}
	}
	setHealth := func(hs ...*topo.TabletHealth) {
		v := &healthView{byAlias: map[topo.TabletAlias]*topo.TabletHealth{}}
		for _, h := range hs {
			v.byAlias[h.Alias] = h
		}
		srv.topo.health.Store(v)
	}

	// No records at all: the local replica, as before health existed.
	if got := addrOf(); got != "2" {
		t.Errorf("no health records: got port %s, want 2 (the local replica)", got)
	}
	setHealth(good(local, 0), good(remote, 0))
	if got := addrOf(); got != "2" {
		t.Errorf("both healthy: got port %s, want 2 (the local replica)", got)
	}
	setHealth(good(local, 11), good(remote, 10))
	if got := addrOf(); got != "3" {
		t.Errorf("local lags 11s over a 10s limit: got port %s, want 3 (the remote replica)", got)
	}
	stopped := good(remote, 0)
	stopped.SQLRunning, stopped.LagSeconds = false, nil
	setHealth(good(local, 11), stopped)
	if got := addrOf(); got != "1" {
		t.Errorf("no healthy replica: got port %s, want 1 (the primary)", got)
	}
	s.replicaReads = replicaStrict
	_, err := s.tabletPool(r, "ks", "0")
	my := sqlerror.ToMyError(err)
	if err == nil || my.Code != mysql.ER_UNKNOWN_ERROR || sqlerror.ClassOf(err) != sqlerror.Unavailable ||
		!strings.Contains(my.Message, "zone1-0000000002: lag 11s over the 10s limit") || !strings.Contains(my.Message, "zone2-0000000003: replication SQL thread stopped") {
		t.Errorf("strict with no healthy replica: got %v, want an unavailable 1105 naming each replica's problem", err)
	}
	// Fallback with no primary either (a failover under way): a clear
	// unavailable error.
	s.replicaReads = replicaFallback
	noPrimary := *r
	noPrimary.tablets = map[topo.TabletType]map[shardKey][]*tablet.Pool{}
	_, err = s.tabletPool(&noPrimary, "ks", "0")
	if my := sqlerror.ToMyError(err); err == nil || my.Code != mysql.ER_UNKNOWN_ERROR || sqlerror.ClassOf(err) != sqlerror.Unavailable ||
		!strings.Contains(my.Message, "no primary to fall back to") {
		t.Errorf("no healthy replica and no primary: got %v, want an unavailable 1105 saying so", err)
	}
	// A stale record is no record: the replica serves again.
	old := good(local, 99)
	old.CheckedAt = now.Add(-2 * healthStaleAfter)
	setHealth(old, stopped)
	if got := addrOf(); got != "2" {
		t.Errorf("stale record of the local replica: got port %s, want 2", got)
	}
	sts := r.tabletStatuses(srv.topo.health.Load(), srv.lagLimit(), time.Now())
	if len(sts) != 3 || !sts[0].Serving || !sts[1].Serving || sts[1].Health != nil || sts[2].Serving || sts[2].Problem != "replication SQL thread stopped" {
		t.Errorf("tablet statuses: got %+v, want primary and the stale-record replica serving, the stopped one not", sts)
	}
}

func portOf(p *tablet.Pool) string {
	addr := p.Addr()
	return addr[strings.LastIndexByte(addr, ':')+1:]
}
