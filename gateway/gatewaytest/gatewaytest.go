// Package gatewaytest runs a local cluster and a gateway for the tests of
// other packages (gateway's own, compat's), and holds the query helpers
// they share. It starts real mariadbd processes and an embedded etcd: for
// a package's tests together, only once the first of them asks (Shared).
package gatewaytest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the driver the helpers open

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/internal/lazyenv"
	"github.com/shardgate/shardgate/tablet/localcluster"
)

// Env is a cluster and one gateway in front of it.
type Env struct {
	Dir     string
	Cluster *localcluster.Cluster
	Gateway *gateway.Server
}

// Start starts the cluster cfg describes, then a gateway configured by
// gw from it, within two minutes. On failure nothing is left running.
func Start(ctx context.Context, cfg localcluster.Config, gw func(*localcluster.Cluster) gateway.Config) (*Env, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	srv, err := gateway.New(gw(c))
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		c.Stop(context.Background())
		return nil, err
	}
	return &Env{Dir: cfg.Dir, Cluster: c, Gateway: srv}, nil
}

// Shared is the Env a package's integration tests share, started by the
// first test that asks for it (Get) and stopped by lazyenv.Main.
type Shared = lazyenv.Env[*Env]

// NewShared returns the Shared that start builds, on first use, in a fresh
// temporary directory named after prefix (removed when it stops).
func NewShared(prefix string, start func(dir string) (*Env, error)) *Shared {
	return lazyenv.New("the shared test cluster", func() (*Env, func(), error) {
		dir, err := os.MkdirTemp("", prefix)
		if err != nil {
			return nil, nil, err
		}
		e, err := start(dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return e, func() { e.Stop(); os.RemoveAll(dir) }, nil
	})
}

// Stop stops the gateway, then the cluster.
func (e *Env) Stop() {
	e.Gateway.Close()
	e.Cluster.Stop(context.Background())
}

// HostPort splits the gateway's address.
func (e *Env) HostPort() (string, string) {
	host, port, _ := net.SplitHostPort(e.Gateway.Addr())
	return host, port
}

// ShardDB opens a handle, as root, directly on a shard's primary.
func (e *Env) ShardDB(t testing.TB, keyspace, shard, params string) *sql.DB {
	t.Helper()
	in := e.Cluster.Primary(keyspace, shard)
	if in == nil {
		t.Fatalf("no primary for %s/%s", keyspace, shard)
	}
	return Open(t, fmt.Sprintf("root@tcp(%s)/%s?%s", in.Mysqld.Addr(), keyspace, params))
}

// Open opens a go-sql-driver handle closed when the test ends.
func Open(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Execer is a *sql.DB, *sql.Tx or *sql.Conn-like handle.
type Execer interface {
	Exec(query string, args ...any) (sql.Result, error)
}

// MustExec runs a statement and fails the test on error.
func MustExec(t testing.TB, db Execer, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

// Querier is a *sql.DB or *sql.Tx.
type Querier interface {
	Query(query string, args ...any) (*sql.Rows, error)
}

// QueryStrings runs a query and returns every row as strings ("NULL" for
// NULL; bytes as they are).
func QueryStrings(t testing.TB, db Querier, query string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
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
