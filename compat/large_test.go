package compat_test

import (
	"database/sql"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
)

const largeRows = 1_000_000

// TestLargeScatterBoundedMemory streams 1,000,000 rows from the two shards
// through the gateway (a plain scatter and an ORDER BY without LIMIT,
// which the gateway merges) and samples the heap of this process, which
// runs the gateway: it must not grow by 64 MiB, so the rows are streamed,
// not buffered.
func TestLargeScatterBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 rows")
	}
	db := shared.db(t, sharded, "")
	mustExec(t, db, "drop table if exists large_t")
	mustExec(t, db, "create table large_t (id bigint primary key, v int not null)")
	// Bulk-load directly on the shards (a scatter reads rows wherever they
	// are), skewed: the first shard has ids 1-1000 only, so in the ordered
	// read it is done long before the other, whose rows must still not
	// pile up at the gateway.
	var shards []*sql.DB
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace == sharded {
			shards = append(shards, shared.Get(t).ShardDB(t, sharded, in.Shard, ""))
		}
	}
	if len(shards) != 2 {
		t.Fatalf("got %d shards, want 2", len(shards))
	}
	mustExec(t, shards[0], "insert into large_t (id, v) select seq, seq % 1000 from seq_1_to_1000")
	mustExec(t, shards[1], fmt.Sprintf("insert into large_t (id, v) select seq, seq %% 1000 from seq_1001_to_%d", largeRows))

	for _, tc := range []struct {
		query   string
		ordered bool
	}{
		{"select id, v from large_t", false},
		{"select id, v from large_t order by id", true},
	} {
		t.Run(tc.query, func(t *testing.T) {
			stop := sampleHeap(t)
			rows, err := db.Query(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			n, last, sum := 0, int64(0), int64(0)
			for rows.Next() {
				var id, v sql.RawBytes
				if err := rows.Scan(&id, &v); err != nil {
					t.Fatal(err)
				}
				x, _ := strconv.ParseInt(string(id), 10, 64)
				if tc.ordered && x <= last {
					t.Fatalf("row %d: id %d after %d: not in order", n, x, last)
				}
				last, sum = x, sum+x
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			growth := stop()
			if n != largeRows || sum != int64(largeRows)*(largeRows+1)/2 {
				t.Fatalf("got %d rows (id sum %d), want %d", n, sum, largeRows)
			}
			t.Logf("%s: %d rows, heap growth %.1f MiB", tc.query, n, float64(growth)/(1<<20))
			if growth > 64<<20 {
				t.Fatalf("heap grew by %.1f MiB while streaming %d rows, want under 64 MiB", float64(growth)/(1<<20), n)
			}
		})
	}
	mustExec(t, db, "drop table large_t")
}

// sampleHeap records the heap in use (live and not yet collected objects)
// every few milliseconds; the returned func stops and reports the peak's
// growth over the heap at the start.
func sampleHeap(t *testing.T) func() uint64 {
	t.Helper()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	t.Logf("heap at the start: %.1f MiB", float64(base)/(1<<20))
	var peak atomic.Uint64
	peak.Store(base)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		if p := peak.Load(); p > base {
			return p - base
		}
		return 0
	}
}

// TestMaxBufferedRows: a statement whose result the gateway must hold
// whole gets error 1041 once it passes MaxBufferedRows (--max-buffered-rows),
// while streamed results of any size are not limited and the gateway
// goes on serving.
func TestMaxBufferedRows(t *testing.T) {
	addr := startGateway(t, func(c *gateway.Config) { c.MaxBufferedRows = 50 })
	db := gatewaytest.Open(t, fmt.Sprintf("%s:%s@tcp(%s)/%s", user, password, addr, sharded))
	mustExec(t, db, "drop table if exists limit_t")
	mustExec(t, db, "create table limit_t (id bigint primary key, v int)")
	var values []string
	for i := 1; i <= 200; i++ {
		values = append(values, fmt.Sprintf("(%d, %d)", i, i%7))
	}
	mustExec(t, db, "insert into limit_t (id, v) values "+strings.Join(values, ", "))
	// Streamed: a scatter and a merged ORDER BY of 200 rows.
	for _, q := range []string{"select id from limit_t", "select id from limit_t order by id desc"} {
		if got := queryStrings(t, db, q); len(got) != 200 {
			t.Fatalf("%s: got %d rows, want 200", q, len(got))
		}
	}
	// An aggregate buffers one row per shard.
	if got := queryStrings(t, db, "select count(*), sum(v) from limit_t"); got[0][0] != "200" {
		t.Fatalf("count: got %v", got)
	}
	// SHOW COLLATION (hundreds of rows) is read whole from a shard.
	_, err := db.Query("show collation")
	wantMySQLError(t, err, 1041)
	if got := queryStrings(t, db, "select count(*) from limit_t"); got[0][0] != "200" {
		t.Fatalf("after the refusal: got %v", got)
	}
}
