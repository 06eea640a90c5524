package gateway_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/internal/lazyenv"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo/vschema"
)

// sharedEnv is the cluster the package's integration tests share:
// keyspace global (unsharded) and keyspace service (4 shards, hash), no
// replicas, and a gateway on a free port. It starts when the first test
// asks for it (Get, db, shardDB), so the unit tests alone start nothing.
type sharedEnv struct{ *gatewaytest.Shared }

var shared = sharedEnv{gatewaytest.NewShared("shardgate-gateway-test-", func(dir string) (*gatewaytest.Env, error) {
	return gatewaytest.Start(context.Background(), clusterConfig(dir), func(c *localcluster.Cluster) gateway.Config {
		// The schema tracker re-reads the shards every 2 s (not 10) so
		// TestSchemaTracking sees DDL sent around the gateway quickly. As
		// under `shardgate up`, the gateway logs in to the shards as the
		// cluster's least-privileged account, never root.
		app := c.AppConn()
		return gateway.Config{ListenAddr: "127.0.0.1:0", Topo: c.Store, SchemaTrackInterval: 2 * time.Second,
			Backend: gateway.BackendConfig{User: app.User, Password: app.Password}}
	})
})}

func TestMain(m *testing.M) { os.Exit(lazyenv.Main(m, shared.Shared)) }

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

// db opens a database/sql handle on the gateway, as root, with the given
// DSN params.
func (e sharedEnv) db(t testing.TB, database string, params string) *sql.DB {
	t.Helper()
	return gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/%s?%s", e.Get(t).Gateway.Addr(), database, params))
}

// shardDB opens a direct connection to a shard's primary, bypassing the gateway.
func (e sharedEnv) shardDB(t testing.TB, keyspace, shard string) *sql.DB {
	t.Helper()
	return e.Get(t).ShardDB(t, keyspace, shard, "")
}

func queryStrings(t testing.TB, db gatewaytest.Querier, query string, args ...any) [][]string {
	t.Helper()
	return gatewaytest.QueryStrings(t, db, query, args...)
}

func mustExec(t testing.TB, db gatewaytest.Execer, query string, args ...any) sql.Result {
	t.Helper()
	return gatewaytest.MustExec(t, db, query, args...)
}
