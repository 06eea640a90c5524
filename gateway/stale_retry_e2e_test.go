package gateway_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
)

// killBackendConnections kills, on every primary of keyspace, the
// connections the gateways opened (as the app account): what a DBA's
// KILL or a shard restart does to a gateway's idle pool.
func killBackendConnections(t *testing.T, keyspace string, shards []string) {
	t.Helper()
	for _, shard := range shards {
		db := shared.shardDB(t, keyspace, shard)
		for _, row := range queryStrings(t, db, "select id from information_schema.processlist where user = ?", tablet.AppUser) {
			if _, err := db.Exec("kill " + row[0]); err != nil {
				var me *mysql.MySQLError
				if !errors.As(err, &me) || me.Number != 1094 { // gone meanwhile
					t.Fatalf("kill %s on %s/%s: %v", row[0], keyspace, shard, err)
				}
			}
		}
	}
	time.Sleep(100 * time.Millisecond) // the FINs reach the gateway
}

// TestReadsRetryAStaleShardConnection: a gateway whose pools hand out a
// connection given back moments ago without checking it (here "moments"
// is an hour, so the test does not race) answers reads correctly after
// the server closed every pooled connection: a point select (text and
// prepared, and in a session whose settings each connection gets first),
// a scatter and an ordered scatter each run again on a new connection. A write on such a connection is not run again: it fails
// with a retryable error (1105) and the row is unchanged on the shard,
// and the client's retry succeeds.
func TestReadsRetryAStaleShardConnection(t *testing.T) {
	app := shared.Get(t).Cluster.AppConn()
	srv := startSecondGateway(t, gateway.Config{
		Backend: gateway.BackendConfig{User: app.User, Password: app.Password, TrustReturnedFor: time.Hour},
	})
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", srv.Addr()))
	db.SetMaxOpenConns(1)
	mustExec(t, db, "create table if not exists stale_t (id bigint primary key, v varchar(20))")
	mustExec(t, db, "delete from stale_t")
	for i := 1; i <= 8; i++ {
		mustExec(t, db, fmt.Sprintf("insert into stale_t (id, v) values (%d, 'v%d')", i, i))
	}
	shards := []string{"-40", "40-80", "80-c0", "c0-"}

	reads := []struct {
		name  string
		query func() ([][]string, error)
		want  string
	}{
		{"point select, text", func() ([][]string, error) { return rows(db, "select v from stale_t where id = 3") }, "[[v3]]"},
		{"point select, prepared", func() ([][]string, error) { return rows(db, "select v from stale_t where id = ?", 5) }, "[[v5]]"},
		{"scatter count", func() ([][]string, error) { return rows(db, "select count(*) from stale_t") }, "[[8]]"},
		{"ordered scatter", func() ([][]string, error) { return rows(db, "select id from stale_t where id > 5 order by id") }, "[[6] [7] [8]]"},
	}
	for _, r := range reads {
		// Every shard's pool gets its connections used (and given back).
		for _, w := range reads {
			if _, err := w.query(); err != nil {
				t.Fatalf("%s before the kill: %v", w.name, err)
			}
		}
		killBackendConnections(t, "service", shards)
		got, err := r.query()
		if err != nil {
			t.Errorf("%s after the shards closed the gateway's idle connections: %v, want %s", r.name, err, r.want)
			continue
		}
		if fmt.Sprint(got) != r.want {
			t.Errorf("%s after the shards closed the gateway's idle connections: got %v, want %s", r.name, got, r.want)
		}
	}

	// A session whose settings are applied to each pooled connection
	// (here a user variable) finds the closed connection while applying
	// them: the read runs again too.
	withSettings := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", srv.Addr()))
	withSettings.SetMaxOpenConns(1)
	mustExec(t, withSettings, "set @x = 5")
	if got, err := rows(withSettings, "select v from stale_t where id = 4"); err != nil || fmt.Sprint(got) != "[[v4]]" {
		t.Fatalf("point select with a user variable set: got %v (%v), want [[v4]]", got, err)
	}
	killBackendConnections(t, "service", shards)
	if got, err := rows(withSettings, "select v from stale_t where id = 4"); err != nil || fmt.Sprint(got) != "[[v4]]" {
		t.Errorf("point select with a user variable set, after the shards closed the gateway's idle connections: got %v (%v), want [[v4]]", got, err)
	}

	// A write is not run twice: the client hears of the closed
	// connection, retryable, and nothing changed. (First a scatter read
	// meets, and retries past, what the last kill left in every pool.)
	if _, err := rows(db, "select count(*) from stale_t"); err != nil {
		t.Fatalf("scatter count after the kill: %v", err)
	}
	mustExec(t, db, "update stale_t set v = 'w3' where id = 3")
	killBackendConnections(t, "service", shards)
	_, err := db.Exec("update stale_t set v = 'x3' where id = 3")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1105 || !strings.Contains(me.Message, "closed before the server answered") {
		t.Fatalf("update on a connection the shard closed: got %v, want error 1105 saying the connection was closed before the server answered", err)
	}
	var onShard []string
	for _, shard := range shards {
		for _, row := range queryStrings(t, shared.shardDB(t, "service", shard), "select v from stale_t where id = 3") {
			onShard = append(onShard, row[0])
		}
	}
	if fmt.Sprint(onShard) != "[w3]" {
		t.Errorf("row 3 on the shards after the failed update: got %v, want [w3] (unchanged)", onShard)
	}
	mustExec(t, db, "update stale_t set v = 'x3' where id = 3")
	if got, err := rows(db, "select v from stale_t where id = 3"); err != nil || fmt.Sprint(got) != "[[x3]]" {
		t.Errorf("row 3 after the client's retry: got %v (%v), want [[x3]]", got, err)
	}
}

// rows runs a query and returns its rows as strings, or its error.
func rows(db *sql.DB, query string, args ...any) ([][]string, error) {
	rs, err := db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out, rs.Err()
}
