package gateway_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// Commit latency of transaction modes, measured in one run and reported
// as ratios (the targets: a 2-shard twopc commit at most 1.6x a
// multi one; a 1-shard twopc transaction 1.0x):
//
//	go test ./gateway -run '^$' -bench Commit -benchtime 2000x
//
// Each iteration runs the variants back to back on their own sessions
// and rows, so they share the machine's noise.

// benchSession is a pinned gateway session in a transaction mode.
func benchSession(b *testing.B, db *sql.DB, mode string) *sql.Conn {
	b.Helper()
	c := pin(b, db)
	cexec(b, c, "set transaction_mode = '"+mode+"'")
	return c
}

// timed runs the statements on c and returns how long they took.
func timed(b *testing.B, c *sql.Conn, stmts ...string) time.Duration {
	start := time.Now()
	for _, q := range stmts {
		if _, err := c.ExecContext(context.Background(), q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	return time.Since(start)
}

func tx(stmts ...string) []string {
	return append(append([]string{"begin"}, stmts...), "commit")
}

func BenchmarkCommit2Shard(b *testing.B) {
	db := shared.db(b, "service", "")
	ids := idsOnDistinctShards(b, 4)
	txTable(b, db, "bench_commit2", ids)
	twopc, multi := benchSession(b, db, "twopc"), benchSession(b, db, "multi")
	upd := func(id int64) string { return fmt.Sprintf("update bench_commit2 set v = v + 1 where id = %d", id) }
	twopcTx, multiTx := tx(upd(ids[0]), upd(ids[1])), tx(upd(ids[2]), upd(ids[3]))
	timed(b, twopc, twopcTx...) // warm the pools
	timed(b, multi, multiTx...)
	b.ReportAllocs()
	b.ResetTimer()
	var tTwoPC, tMulti time.Duration
	for range b.N {
		tTwoPC += timed(b, twopc, twopcTx...)
		tMulti += timed(b, multi, multiTx...)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tTwoPC.Nanoseconds())/n, "twopc-ns/tx")
	b.ReportMetric(float64(tMulti.Nanoseconds())/n, "multi-ns/tx")
	b.ReportMetric(float64(tTwoPC)/float64(tMulti), "twopc/multi")
}

func BenchmarkCommit1Shard(b *testing.B) {
	db := shared.db(b, "service", "")
	ids := idsOnDistinctShards(b, 4)
	txTable(b, db, "bench_commit1", ids)
	twopc, multi := benchSession(b, db, "twopc"), benchSession(b, db, "multi")
	upd := func(id int64) string { return fmt.Sprintf("update bench_commit1 set v = v + 1 where id = %d", id) }
	b.ReportAllocs()
	b.ResetTimer()
	var tTx, tMultiTx, tAuto, tAutoMulti time.Duration
	for range b.N {
		// An explicit one-shard transaction: XA START ... XA END + XA
		// COMMIT ONE PHASE (pipelined) against START TRANSACTION ... COMMIT.
		tTx += timed(b, twopc, tx(upd(ids[0]))...)
		tMultiTx += timed(b, multi, tx(upd(ids[1]))...)
		// An autocommit statement: twopc adds nothing to it.
		tAuto += timed(b, twopc, upd(ids[2]))
		tAutoMulti += timed(b, multi, upd(ids[3]))
	}
	n := float64(b.N)
	b.ReportMetric(float64(tTx.Nanoseconds())/n, "twopc-tx-ns")
	b.ReportMetric(float64(tAuto.Nanoseconds())/n, "twopc-autocommit-ns")
	b.ReportMetric(float64(tTx)/float64(tMultiTx), "twopc-tx/multi-tx")
	b.ReportMetric(float64(tAuto)/float64(tAutoMulti), "twopc-autocommit/plain-autocommit")
	b.ReportMetric(float64(tTx)/float64(tAuto), "twopc-tx/autocommit")
}
