package gateway_test

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

// env is the cluster every test in this package shares: keyspace global
// (unsharded) and keyspace service (4 shards, hash), no replicas, and a
// gateway on a free port.
type env struct {
	dir     string
	cluster *localcluster.Cluster
	gw      *gateway.Server
}

var shared *env

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "shardgate-gateway-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		e, err := startEnv(context.Background(), dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "start test cluster:", err)
			return 1
		}
		shared = e
		defer func() { shared.stop() }()
		return m.Run()
	}()
	os.Exit(code)
}

func clusterConfig(dir string) localcluster.Config {
	return localcluster.Config{
		Dir: filepath.Join(dir, "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{
			{Name: "global", VSchema: &vschema.Keyspace{}},
			{Name: "service", Shards: 4, VSchema: &vschema.Keyspace{
				Sharded:  true,
				Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			}},
		},
		EtcdAddr: "127.0.0.1:0",
	}
}

func startEnv(ctx context.Context, dir string) (*env, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, clusterConfig(dir))
	if err != nil {
		return nil, err
	}
	gw, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: c.Store})
	if err == nil {
		err = gw.Start(ctx)
	}
	if err != nil {
		c.Stop(context.Background())
		return nil, err
	}
	return &env{dir: dir, cluster: c, gw: gw}, nil
}

func (e *env) stop() {
	e.gw.Close()
	e.cluster.Stop(context.Background())
}

// db opens a database/sql handle on the gateway with the given DSN params.
func (e *env) db(t testing.TB, database string, params string) *sql.DB {
	t.Helper()
	dsn := fmt.Sprintf("root@tcp(%s)/%s?%s", e.gw.Addr(), database, params)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// shardDB opens a direct connection to a shard's primary, bypassing the gateway.
func (e *env) shardDB(t testing.TB, keyspace, shard string) *sql.DB {
	t.Helper()
	in := e.cluster.Primary(keyspace, shard)
	if in == nil {
		t.Fatalf("no primary for %s/%s", keyspace, shard)
	}
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/%s", in.Mysqld.Addr(), keyspace))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
