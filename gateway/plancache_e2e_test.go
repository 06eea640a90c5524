package gateway_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/shardgate/shardgate/gateway"
)

// uncachedDB is a second gateway on the shared cluster with the plan cache
// off, to compare answers with.
func uncachedDB(t *testing.T, database string) *sql.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gw, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: shared.Get(t).Cluster.Store, PlanCacheEntries: -1})
	if err == nil {
		err = gw.Start(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/%s", gw.Addr(), database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func planCacheHits(t *testing.T) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	shared.Get(t).Gateway.StatusHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "shardgate_plan_cache_hits_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no shardgate_plan_cache_hits_total in /metrics:\n%s", body)
	return 0
}

// TestPlanCacheSameRowsAsUncached runs the same text queries through the
// shared gateway (literals normalised, plans cached) and through one with
// no plan cache: every answer must be the same, run after run.
func TestPlanCacheSameRowsAsUncached(t *testing.T) {
	cached := shared.db(t, "service", "")
	uncached := uncachedDB(t, "service")
	mustExec(t, cached, "CREATE TABLE pc_diff (id BIGINT PRIMARY KEY, k INT, c VARCHAR(40))")
	t.Cleanup(func() { cached.Exec("DROP TABLE pc_diff") })
	for i := 1; i <= 40; i++ {
		mustExec(t, cached, fmt.Sprintf("INSERT INTO pc_diff (id, k, c) VALUES (%d, %d, 'row''%d\\n')", i, i%7, i))
	}
	queries := []string{
		"SELECT c FROM pc_diff WHERE id=%d",
		"SELECT id, k, c FROM pc_diff WHERE id = %d",
		"SELECT id FROM pc_diff WHERE id IN (%d, 3, 17) ORDER BY id",
		"SELECT id, c FROM pc_diff WHERE id BETWEEN %d AND 30 ORDER BY c",
		"SELECT SUM(k) FROM pc_diff WHERE id BETWEEN 1 AND %d",
		"SELECT COUNT(*) FROM pc_diff WHERE k = %d",
		"SELECT id FROM pc_diff WHERE id > %d ORDER BY id LIMIT 3",
		"SELECT id FROM pc_diff WHERE id > 5 ORDER BY id LIMIT %d, 2",
		"SELECT id, 'lit', 1 FROM pc_diff WHERE id = %d",
		"SELECT id FROM pc_diff WHERE c = 'row''%d\\n'",
		"SELECT id, k FROM pc_diff WHERE id < %d ORDER BY 2, 1",
	}
	before := planCacheHits(t)
	for _, q := range queries {
		for _, n := range []int{2, 9, 2, 31} {
			sql := fmt.Sprintf(q, n)
			got := queryStrings(t, cached, sql)
			want := queryStrings(t, uncached, sql)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s\n cached:   %q\n uncached: %q", sql, got, want)
			}
		}
	}
	// Writes through the cache change the same rows.
	for _, n := range []int{4, 5} {
		mustExec(t, cached, fmt.Sprintf("UPDATE pc_diff SET k = k + 100, c = 'upd' WHERE id = %d", n))
	}
	mustExec(t, cached, "DELETE FROM pc_diff WHERE id = 6")
	if got, want := queryStrings(t, cached, "SELECT id, k, c FROM pc_diff WHERE id IN (4, 5, 6) ORDER BY id"), [][]string{{"4", "104", "upd"}, {"5", "105", "upd"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after cached UPDATE/DELETE: got %q, want %q", got, want)
	}
	if hits := planCacheHits(t) - before; hits < float64(len(queries)) {
		t.Errorf("plan cache hits = %v over %d query shapes run 4 times each; want at least %d", hits, len(queries), len(queries))
	}
}

// TestPreparedSelectReportsColumns: COM_STMT_PREPARE answers with the
// query's column count (libmariadb reads no rows of a statement prepared
// with none and then fails with "Commands out of sync").
func TestPreparedSelectReportsColumns(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "CREATE TABLE ps_cols (id BIGINT PRIMARY KEY, a INT, b VARCHAR(10))")
	t.Cleanup(func() { db.Exec("DROP TABLE ps_cols") })
	mustExec(t, db, "INSERT INTO ps_cols (id, a, b) VALUES (1, 10, 'x')")
	conn, err := client.Connect(shared.Get(t).Gateway.Addr(), "root", "", "service")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct {
		sql  string
		cols int
	}{
		{"SELECT id, a, b FROM ps_cols WHERE id = ?", 3},
		{"SELECT b FROM ps_cols WHERE id BETWEEN ? AND ?", 1},
		{"SELECT COUNT(*), SUM(a) FROM ps_cols WHERE a > ?", 2},
		{"UPDATE ps_cols SET a = ? WHERE id = ?", 0},
	} {
		st, err := conn.Prepare(c.sql)
		if err != nil {
			t.Fatalf("prepare %q: %v", c.sql, err)
		}
		if st.ColumnNum() != c.cols {
			t.Errorf("prepare %q: %d columns, want %d", c.sql, st.ColumnNum(), c.cols)
		}
		st.Close()
	}

	// The columns are cached; DDL through the gateway makes them stale.
	prepareCols := func() int {
		st, err := conn.Prepare("SELECT * FROM ps_cols WHERE id = ?")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		return st.ColumnNum()
	}
	if n := prepareCols(); n != 3 {
		t.Fatalf("SELECT * prepared with %d columns, want 3", n)
	}
	if n := prepareCols(); n != 3 {
		t.Fatalf("SELECT * prepared again with %d columns, want 3", n)
	}
	mustExec(t, db, "ALTER TABLE ps_cols ADD COLUMN d INT")
	if n := prepareCols(); n != 4 {
		t.Errorf("after ALTER TABLE ADD COLUMN, SELECT * prepared with %d columns, want 4", n)
	}
}
