package compat_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/internal/lazyenv"
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

// sharedEnv is the cluster and gateway the package's tests share, started
// by the first test that asks for it (Get, db).
type sharedEnv struct{ *gatewaytest.Shared }

var shared = sharedEnv{gatewaytest.NewShared("shardgate-compat-", func(dir string) (*gatewaytest.Env, error) {
	return gatewaytest.Start(context.Background(), localcluster.Config{
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
	}, gatewayConfig)
})}

func TestMain(m *testing.M) { os.Exit(lazyenv.Main(m, shared.Shared)) }

func gatewayConfig(c *localcluster.Cluster) gateway.Config {
	return gateway.Config{
		ListenAddr: "127.0.0.1:0",
		Topo:       c.Store,
		Users:      map[string]string{user: password},
	}
}

// db opens a go-sql-driver handle on the gateway as the compat user.
func (e sharedEnv) db(t testing.TB, database, params string) *sql.DB {
	t.Helper()
	return gatewaytest.Open(t, fmt.Sprintf("%s:%s@tcp(%s)/%s?%s", user, password, e.Get(t).Gateway.Addr(), database, params))
}

func mustExec(t testing.TB, db gatewaytest.Execer, query string, args ...any) sql.Result {
	t.Helper()
	return gatewaytest.MustExec(t, db, query, args...)
}

func queryStrings(t testing.TB, db gatewaytest.Querier, query string, args ...any) [][]string {
	t.Helper()
	return gatewaytest.QueryStrings(t, db, query, args...)
}
