package compat_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo/vschema"
)

// The keyspaces every compat test uses: uks is unsharded, sks has two
// shards (-80, 80-) with a hash vindex. The vschema also names a sequence
// table in uks and a table of sks whose id comes from it (seqTable,
// seqItems: compat/java creates them).
const (
	unsharded = "uks"
	sharded   = "sks"
	user      = "compat"
	password  = "compat-pw"

	seqTable = "j_seq"
	seqItems = "j_seq_items"
)

// env is the cluster and gateway the package's tests share.
type env struct {
	dir     string
	cluster *localcluster.Cluster
	gw      *gateway.Server
}

var shared *env

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "shardgate-compat-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		e, err := startEnv(context.Background(), dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "start compat cluster:", err)
			return 1
		}
		shared = e
		defer shared.stop()
		return m.Run()
	}()
	os.Exit(code)
}

func startEnv(ctx context.Context, dir string) (*env, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Config{
		Dir: filepath.Join(dir, "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{
			{Name: unsharded, VSchema: &vschema.Keyspace{
				Tables: map[string]*vschema.Table{seqTable: {Type: vschema.TypeSequence}},
			}},
			{Name: sharded, Shards: 2, VSchema: &vschema.Keyspace{
				Sharded:  true,
				Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
				Tables: map[string]*vschema.Table{seqItems: {
					ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}},
					AutoIncrement:  &vschema.AutoIncrement{Column: "id", Sequence: seqTable},
				}},
			}},
		},
		EtcdAddr: "127.0.0.1:0",
	})
	if err != nil {
		return nil, err
	}
	gw, err := gateway.New(gatewayConfig(c))
	if err == nil {
		err = gw.Start(ctx)
	}
	if err != nil {
		c.Stop(context.Background())
		return nil, err
	}
	return &env{dir: dir, cluster: c, gw: gw}, nil
}

func gatewayConfig(c *localcluster.Cluster) gateway.Config {
	return gateway.Config{
		ListenAddr: "127.0.0.1:0",
		Topo:       c.Store,
		Users:      map[string]string{user: password},
	}
}

func (e *env) stop() {
	e.gw.Close()
	e.cluster.Stop(context.Background())
}

// host and port of the gateway.
func (e *env) hostPort() (string, string) {
	addr := e.gw.Addr()
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:]
		}
	}
	return addr, ""
}

// db opens a go-sql-driver handle on the gateway.
func (e *env) db(t testing.TB, database, params string) *sql.DB {
	t.Helper()
	return openDB(t, fmt.Sprintf("%s:%s@tcp(%s)/%s?%s", user, password, e.gw.Addr(), database, params))
}

// shardDB opens a handle directly on a shard's primary.
func (e *env) shardDB(t testing.TB, keyspace, shard, params string) *sql.DB {
	t.Helper()
	in := e.cluster.Primary(keyspace, shard)
	if in == nil {
		t.Fatalf("no primary for %s/%s", keyspace, shard)
	}
	return openDB(t, fmt.Sprintf("root@tcp(%s)/%s?%s", in.Mysqld.Addr(), keyspace, params))
}

func openDB(t testing.TB, dsn string) *sql.DB {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t testing.TB, db interface {
	Exec(string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

// queryStrings runs a query and returns every row as strings ("NULL" for NULL).
func queryStrings(t testing.TB, db *sql.DB, query string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}
