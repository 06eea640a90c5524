package gateway_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestMarginCommentReachesShard: a point select with a sqlcommenter tag is
// served from the plan cache, and the shard runs it with the tag (what a
// DBA sees in the shard's processlist and slow log).
func TestMarginCommentReachesShard(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "CREATE TABLE mc_t (id BIGINT PRIMARY KEY, c VARCHAR(20))")
	t.Cleanup(func() { db.Exec("DROP TABLE mc_t") })
	mustExec(t, db, "INSERT INTO mc_t (id, c) VALUES (1, 'one'), (2, 'two')")
	if got := queryStrings(t, db, "SELECT SLEEP(1), c FROM mc_t WHERE id = 2 /*traceparent='00-warm-01'*/"); len(got) != 1 || got[0][1] != "two" {
		t.Fatalf("commented point select = %q, want [[0 two]]", got)
	}
	before := planCacheHits(t)
	id := fmt.Sprintf("00-%d-01", time.Now().UnixNano())
	tag := "traceparent='" + id + "'"
	done := make(chan [][]string, 1)
	go func() {
		done <- queryStrings(t, db, "SELECT SLEEP(1), c FROM mc_t WHERE id = 1 /*"+tag+"*/")
	}()
	seen := ""
	deadline := time.Now().Add(10 * time.Second)
	for seen == "" && time.Now().Before(deadline) {
		for _, shard := range []string{"-40", "40-80", "80-c0", "c0-"} {
			rows := queryStrings(t, shared.shardDB(t, "service", shard),
				"SELECT INFO FROM information_schema.PROCESSLIST WHERE INFO LIKE '%"+id+"%' AND INFO NOT LIKE '%PROCESSLIST%'")
			if len(rows) > 0 {
				seen = rows[0][0]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := <-done
	if len(got) != 1 || got[0][1] != "one" {
		t.Errorf("rows = %q, want [[0 one]]", got)
	}
	if !strings.Contains(seen, "/*"+tag+"*/") {
		t.Errorf("no shard ran the statement with its comment %q (saw %q)", tag, seen)
	}
	if hits := planCacheHits(t) - before; hits < 1 {
		t.Errorf("plan cache hits = %v for a commented statement of a cached shape, want 1", hits)
	}
}
