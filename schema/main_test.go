package schema_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardgate/shardgate/internal/lazyenv"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo/vschema"
)

// cluster is the package's test cluster: keyspace "shop", 2 shards, no
// replicas, started by the first test that asks for it.
var cluster = lazyenv.New("the schema test cluster", func() (*localcluster.Cluster, func(), error) {
	dir, err := os.MkdirTemp("", "schema-test-")
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Config{
		Dir: filepath.Join(dir, "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{{Name: "shop", Shards: 2, VSchema: &vschema.Keyspace{
			Sharded:  true,
			Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			Tables:   map[string]*vschema.Table{"items": {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}}}},
		}}},
		EtcdAddr: "127.0.0.1:0",
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return c, func() { c.Stop(context.Background()); os.RemoveAll(dir) }, nil
})

func TestMain(m *testing.M) { os.Exit(lazyenv.Main(m, cluster)) }
