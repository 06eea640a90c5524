package gateway_test

import (
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/vindex"
)

// shardOf names the service shard that owns id under the hash vindex.
func shardOf(t testing.TB, id int64) string {
	t.Helper()
	h, err := vindex.New("hash", "hash", nil)
	if err != nil {
		t.Fatal(err)
	}
	ksid, err := h.(vindex.Functional).Map(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, shard := range serviceShards {
		kr, _ := vindex.ParseKeyRange(shard)
		if kr.Contains(ksid) {
			return shard
		}
	}
	t.Fatalf("no shard owns %d", id)
	return ""
}

// shardQueryLog records, through each shard's general log, the statements
// the gateway sends that mention a marker.
type shardQueryLog struct {
	dbs map[string]*sql.DB
}

func startShardQueryLog(t *testing.T) *shardQueryLog {
	t.Helper()
	l := &shardQueryLog{dbs: map[string]*sql.DB{}}
	for _, shard := range serviceShards {
		db := shared.shardDB(t, "service", shard)
		db.SetMaxOpenConns(1)
		mustExec(t, db, "set global log_output = 'TABLE'")
		mustExec(t, db, "set global general_log = 1")
		t.Cleanup(func() { db.Exec("set global general_log = 0") })
		l.dbs[shard] = db
	}
	return l
}

// queries returns, per shard, the logged statements containing marker.
func (l *shardQueryLog) queries(t *testing.T, marker string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for shard, db := range l.dbs {
		for _, row := range queryStrings(t, db, "select convert(argument using utf8mb4) from mysql.general_log where command_type = 'Query' and convert(argument using utf8mb4) like ? and convert(argument using utf8mb4) not like '%general_log%'", "%"+marker+"%") {
			out[shard] = append(out[shard], row[0])
		}
	}
	return out
}

// TestRoutingTouchesOnlyOwningShards: a point select by the vindex column
// reaches exactly one shard; an IN list reaches only the shards owning its
// values, each shard's query carrying only its own values.
func TestRoutingTouchesOnlyOwningShards(t *testing.T) {
	db := shared.db(t, "service", "interpolateParams=true")
	mustExec(t, db, "create table route_t (id bigint primary key, v int)")
	var values []string
	for id := 1; id <= 64; id++ {
		values = append(values, fmt.Sprintf("(%d, %d)", id, id*10))
	}
	mustExec(t, db, "insert into route_t (id, v) values "+strings.Join(values, ", "))
	log := startShardQueryLog(t)

	if got := queryStrings(t, db, "select v, 'point_marker' from route_t where id = ?", 42); len(got) != 1 || got[0][0] != "420" {
		t.Fatalf("point select: got %v, want [[420 point_marker]]", got)
	}
	sent := log.queries(t, "point_marker")
	owner := shardOf(t, 42)
	if len(sent) != 1 || len(sent[owner]) != 1 {
		t.Errorf("point select for id 42 (owner %s): got shard queries %v, want one query on %s only", owner, sent, owner)
	}

	ids := []int64{3, 17, 42, 58, 61}
	got := queryStrings(t, db, "select id, 'in_marker' from route_t where id in (3, 17, 42, 58, 61) order by id")
	if len(got) != len(ids) {
		t.Fatalf("IN select: got %d rows, want %d", len(got), len(ids))
	}
	want := map[string][]int64{}
	for _, id := range ids {
		want[shardOf(t, id)] = append(want[shardOf(t, id)], id)
	}
	sent = log.queries(t, "in_marker")
	if len(sent) != len(want) {
		t.Errorf("IN select: got queries on shards %v, want exactly the owning shards %v", keys(sent), keys(want))
	}
	for shard, own := range want {
		if len(sent[shard]) != 1 {
			t.Errorf("IN select: shard %s got %d queries, want 1: %v", shard, len(sent[shard]), sent[shard])
			continue
		}
		q := sent[shard][0]
		for _, id := range ids {
			has := regexp.MustCompile(fmt.Sprintf(`\b%d\b`, id)).MatchString(q)
			if has != slices.Contains(own, id) {
				t.Errorf("IN select: shard %s query %q: contains %d = %v, want %v (owns %v)", shard, q, id, has, !has, own)
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
