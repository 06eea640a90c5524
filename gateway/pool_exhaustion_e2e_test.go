package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
)

// startSecondGateway starts another gateway on the shared cluster with
// cfg's limits (Topo and ListenAddr filled in), closed when the test ends.
func startSecondGateway(t testing.TB, cfg gateway.Config) *gateway.Server {
	t.Helper()
	cfg.Topo = shared.Get(t).Cluster.Store
	cfg.ListenAddr = "127.0.0.1:0"
	srv, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// Regression test (issue 15, finding 7): clients that each BEGIN; SELECT
// on one shard and go idle held its whole pool, and every other statement
// for the shard hung. Now a statement that finds no free connection gets
// an error after the pool wait timeout, and the idle transactions are
// rolled back (their clients disconnected) after the idle timeout, after
// which the shard serves again.
func TestIdleTransactionsCannotHangAShard(t *testing.T) {
	mustExec(t, shared.db(t, "global", ""), "create table if not exists pool_t (id bigint primary key)")
	srv := startSecondGateway(t, gateway.Config{
		Backend: gateway.BackendConfig{PoolSize: 4, PoolWaitTimeout: 300 * time.Millisecond},
		TwoPC:   gateway.TwoPCConfig{IdleTimeout: 2 * time.Second},
	})
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/global", srv.Addr()))
	for i := range 4 {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var n int
		if err := tx.QueryRow("select count(*) from pool_t").Scan(&n); err != nil {
			t.Fatalf("idle transaction %d: %v", i, err)
		}
	}
	start := time.Now()
	var n int
	err := db.QueryRow("select count(*) from pool_t").Scan(&n)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1105 || !strings.Contains(me.Message, "in use") {
		t.Fatalf("a statement with the shard's 4 connections held by idle transactions: got %v, want error 1105 naming the connections in use", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("the refusal took %s, want about the 300ms pool wait timeout", waited)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := db.QueryRow("select count(*) from pool_t").Scan(&n)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15s after the transactions went idle (idle timeout 2s): %v, want the shard to serve", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Issue 15, finding 7: a frozen shard (SIGSTOP) stalled its clients with
// no error. With a query timeout the client gets 1969 within it.
func TestFrozenShardAnswersWithinQueryTimeout(t *testing.T) {
	mustExec(t, shared.db(t, "global", ""), "create table if not exists pool_t (id bigint primary key)")
	srv := startSecondGateway(t, gateway.Config{QueryTimeout: time.Second})
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/global", srv.Addr()))
	var n int
	if err := db.QueryRow("select count(*) from pool_t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	frozen := shared.Get(t).Cluster.Primary("global", "0")
	if err := frozen.Mysqld.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := frozen.Mysqld.Signal(syscall.SIGCONT); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := db.QueryRowContext(ctx, "select count(*) from pool_t").Scan(&n)
	waited := time.Since(start)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1969 {
		t.Fatalf("a statement on a frozen shard with a 1s query timeout: got %v after %s, want error 1969", err, waited)
	}
	if waited > 5*time.Second {
		t.Errorf("the error came after %s, want about the 1s query timeout", waited)
	}
}
