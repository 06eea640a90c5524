package gosqldriver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/internal/lazyenv"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo/vschema"
)

const (
	unsharded = "uks"
	user      = "driver"
	password  = "driver-pw"
)

// shared is the one-keyspace cluster and gateway the suite runs against,
// started on first use.
var shared = gatewaytest.NewShared("shardgate-gosqldriver-", func(dir string) (*gatewaytest.Env, error) {
	return gatewaytest.Start(context.Background(), localcluster.Config{
		Dir:       filepath.Join(dir, "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{{Name: unsharded, VSchema: &vschema.Keyspace{}}},
		EtcdAddr:  "127.0.0.1:0",
	}, func(c *localcluster.Cluster) gateway.Config {
		return gateway.Config{ListenAddr: "127.0.0.1:0", Topo: c.Store, Users: map[string]string{user: password}}
	})
})

func TestMain(m *testing.M) { os.Exit(lazyenv.Main(m, shared)) }

func mustExec(t *testing.T, env *gatewaytest.Env, query string) {
	t.Helper()
	gatewaytest.MustExec(t, env.ShardDB(t, unsharded, "0", ""), query)
}
