package gateway_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// scrape reads every sample of the gateway's registry as
// "name{l1=v1,l2=v2}" -> value (labels sorted by name, as Gather gives
// them; histograms as their _count).
func scrape(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			name := f.GetName()
			var v float64
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				name += "_count"
				v = float64(m.GetHistogram().GetSampleCount())
			default:
				continue
			}
			out[name+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}

// TestMetricsMoveWithTheWorkload runs statements that should each move a
// metric of issue 16 and checks, by scraping the gateway's registry, that
// exactly those moved: statements by kind and plan, errors by number,
// shard queries on the tablet that holds the row, a two-phase commit.
func TestMetricsMoveWithTheWorkload(t *testing.T) {
	env := shared.Get(t)
	gw := env.Gateway
	db := shared.db(t, "service", "")
	mustExec(t, db, "CREATE TABLE IF NOT EXISTS obs_metrics (id BIGINT PRIMARY KEY, v INT)")
	mustExec(t, db, "DELETE FROM obs_metrics")
	for id := 1; id <= 8; id++ {
		mustExec(t, db, "INSERT INTO obs_metrics (id, v) VALUES (?, ?)", id, id)
	}

	// Where does id 5 live? Asked of the shards directly.
	var holder string
	for _, sh := range []string{"-40", "40-80", "80-c0", "c0-"} {
		if rows := queryStrings(t, shared.shardDB(t, "service", sh), "SELECT id FROM obs_metrics WHERE id = 5"); len(rows) == 1 {
			holder = sh
		}
	}
	if holder == "" {
		t.Fatal("row 5 is on no shard")
	}
	var holderAlias string
	aliases := map[string]string{} // alias -> shard
	for _, tb := range gw.Tablets() {
		if tb.Keyspace == "service" && tb.Type == "primary" {
			aliases[tb.Alias] = tb.Shard
			if tb.Shard == holder {
				holderAlias = tb.Alias
			}
		}
	}
	if holderAlias == "" || len(aliases) != 4 {
		t.Fatalf("tablets %+v: no primary alias for shard %s", gw.Tablets(), holder)
	}

	before := scrape(t, gw.Gatherer())
	queryStrings(t, db, "SELECT v FROM obs_metrics WHERE id = 5")
	_, errMissing := db.Exec("SELECT * FROM obs_no_such_table")
	_, errDup := db.Exec("INSERT INTO obs_metrics (id, v) VALUES (5, 0)")
	if n := errNumber(errMissing); n != 1146 {
		t.Fatalf("select from a missing table: got %v, want 1146", errMissing)
	}
	if n := errNumber(errDup); n != 1062 {
		t.Fatalf("duplicate insert: got %v, want 1062", errDup)
	}
	// A transaction writing to two shards: two-phase commit.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= 8; id++ {
		if _, err := tx.Exec("UPDATE obs_metrics SET v = v + 1 WHERE id = ?", id); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	after := scrape(t, gw.Gatherer())

	delta := func(key string) float64 { return after[key] - before[key] }
	for key, want := range map[string]float64{
		"shardgate_queries_total{keyspace=service,plan=EqualUnique,statement=select}": 1,
		"shardgate_queries_total{keyspace=service,plan=EqualUnique,statement=update}": 8,
		"shardgate_errors_total{code=1146}":                                           1,
		"shardgate_errors_total{code=1062}":                                           1,
		"shardgate_transactions_total{mode=twopc,outcome=commit}":                     1,
		"shardgate_twopc_commits_total{outcome=commit}":                               1,
	} {
		if got := delta(key); got != want {
			t.Errorf("%s moved by %v, want %v", key, got, want)
		}
	}
	if got := delta("shardgate_query_duration_seconds_count{keyspace=service,statement=select}"); got < 1 {
		t.Errorf("select latency histogram moved by %v, want >= 1", got)
	}
	// The point select went to the tablet holding the row, and (apart
	// from the updates, one per row) nowhere else.
	key := fmt.Sprintf("shardgate_shard_queries_total{keyspace=service,shard=%s,tablet_alias=%s,tablet_type=primary}", holder, holderAlias)
	if got := delta(key); got < 2 { // the select and id 5's update
		t.Errorf("%s moved by %v, want >= 2", key, got)
	}
	var total float64
	for alias, sh := range aliases {
		total += delta(fmt.Sprintf("shardgate_shard_queries_total{keyspace=service,shard=%s,tablet_alias=%s,tablet_type=primary}", sh, alias))
	}
	if total < 9 {
		t.Errorf("shard queries over the service primaries moved by %v, want >= 9 (1 select, 8 updates)", total)
	}
	if got := delta(fmt.Sprintf("shardgate_shard_query_duration_seconds_count{keyspace=service,shard=%s}", holder)); got < 2 {
		t.Errorf("shard latency histogram of %s moved by %v, want >= 2", holder, got)
	}
	for alias := range aliases {
		if v, ok := after["shardgate_tablet_healthy{tablet_alias="+alias+",tablet_type=primary}"]; !ok || v != 1 {
			t.Errorf("tablet_healthy of %s = %v (present %v), want 1", alias, v, ok)
		}
		if _, ok := after["shardgate_pool_in_use{tablet_alias="+alias+"}"]; !ok {
			t.Errorf("no shardgate_pool_in_use for %s", alias)
		}
		if _, ok := after["shardgate_pool_waits_total{tablet_alias="+alias+"}"]; !ok {
			t.Errorf("no shardgate_pool_waits_total for %s", alias)
		}
	}
	if v := after["shardgate_connections{}"]; v < 1 {
		t.Errorf("shardgate_connections = %v, want >= 1 (this test's)", v)
	}
	// The coordinator removes the decision record in the background once
	// every branch committed: the gauge returns to 0 shortly.
	for deadline := time.Now().Add(10 * time.Second); ; {
		v, ok := scrape(t, gw.Gatherer())["shardgate_twopc_unresolved{}"]
		if ok && v == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("shardgate_twopc_unresolved = %v (present %v) 10s after the commit, want 0", v, ok)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, ok := after["shardgate_plan_cache_hits_total{}"]; !ok {
		t.Error("the plan cache metrics are gone")
	}

	// SHOW QUERY STATS lists the point select's digest with its count.
	rows := queryStrings(t, db, "SHOW QUERY STATS")
	found := false
	for _, r := range rows {
		if r[1] == "service" && r[2] == "SELECT v FROM obs_metrics WHERE id = ?" {
			found = true
			if r[3] == "0" {
				t.Errorf("digest %v has count 0", r)
			}
		}
		if strings.Contains(r[2], "'") {
			t.Errorf("digest text keeps a literal: %q", r[2])
		}
	}
	if !found {
		t.Errorf("SHOW QUERY STATS has no digest of the point select: %v", rows)
	}
}
