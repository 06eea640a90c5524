package failover_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// soakLoad is the soak's clients: they write through the gateway at a
// steady rate and record what was acknowledged, apart from what failed
// (a failed write may or may not have landed; an acknowledged one must
// have):
//   - inserters: single-row autocommit INSERTs into soak_rows;
//   - an updater: UPDATE soak_counters SET n = <next> for a few rows on
//     both shards, each row's values only growing;
//   - pairers: two-shard transactions (2PC) inserting one row on each
//     shard into soak_pairs.
type soakLoad struct {
	db      *sql.DB
	shardOf func(int64) string
	wg      sync.WaitGroup
	cancel  context.CancelFunc

	mu sync.Mutex
	// inserted: acknowledged single-row inserts.
	inserted []int64
	// pairs: every two-shard transaction tried; acked says which got OK.
	pairs []soakPair
	// counters: per row, the last value acknowledged and the last tried.
	counters map[int64]*soakCounter
	// acks: per shard, when each acknowledged write to it was sent and
	// answered (a pair counts for both shards).
	acks   map[string][]soakAck
	errors int
	ops    int
	// why counts the failures by error (its first 60 bytes).
	why map[string]int
}

type soakPair struct {
	low, high int64
	acked     bool
}

type soakCounter struct{ acked, tried int64 }

type soakAck struct{ sent, at time.Time }

// soakCounterIDs are the updater's rows (both shards have some).
var soakCounterIDs = []int64{1, 2, 3, 4, 5, 6, 7, 8}

// startSoakLoad creates the tables and starts the clients; every client
// does one operation per tick.
func startSoakLoad(t *testing.T, db *sql.DB, shardOf func(int64) string, tick time.Duration) *soakLoad {
	t.Helper()
	for _, q := range []string{
		"CREATE TABLE soak_rows (id BIGINT PRIMARY KEY, v VARCHAR(32))",
		"CREATE TABLE soak_pairs (id BIGINT PRIMARY KEY, pair BIGINT)",
		"CREATE TABLE soak_counters (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	l := &soakLoad{db: db, shardOf: shardOf, counters: map[int64]*soakCounter{}, acks: map[string][]soakAck{}, why: map[string]int{}}
	for _, id := range soakCounterIDs {
		if _, err := db.Exec("INSERT INTO soak_counters (id, n) VALUES (?, 0)", id); err != nil {
			t.Fatal(err)
		}
		l.counters[id] = &soakCounter{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for c := range 2 {
		next := int64(1_000_000 * (c + 1))
		l.run(ctx, tick, func(ctx context.Context) {
			next++
			id := next
			sent := time.Now()
			_, err := db.ExecContext(ctx, "INSERT INTO soak_rows (id, v) VALUES (?, 'x')", id)
			l.record(err, sent, func() { l.inserted = append(l.inserted, id) }, shardOf(id))
		})
	}
	seq := int64(0)
	l.run(ctx, tick, func(ctx context.Context) {
		seq++
		id := soakCounterIDs[int(seq)%len(soakCounterIDs)]
		l.mu.Lock()
		c := l.counters[id]
		c.tried = seq
		l.mu.Unlock()
		sent := time.Now()
		_, err := db.ExecContext(ctx, "UPDATE soak_counters SET n = ? WHERE id = ?", seq, id)
		l.record(err, sent, func() { c.acked = seq }, shardOf(id))
	})
	for c := range 2 {
		next := int64(10_000_000 * (c + 1))
		l.run(ctx, tick, func(ctx context.Context) {
			var low, high int64
			for low == 0 || high == 0 {
				next++
				if shardOf(next) == "-80" && low == 0 {
					low = next
				} else if shardOf(next) == "80-" && high == 0 {
					high = next
				}
			}
			l.mu.Lock()
			l.pairs = append(l.pairs, soakPair{low: low, high: high})
			i := len(l.pairs) - 1
			l.mu.Unlock()
			sent := time.Now()
			err := insertPair(ctx, db, low, high)
			l.record(err, sent, func() { l.pairs[i].acked = true }, "-80", "80-")
		})
	}
	return l
}

// run starts a client doing op every tick until ctx ends; each op gets 8 s.
func (l *soakLoad) run(ctx context.Context, tick time.Duration, op func(context.Context)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			octx, cancel := context.WithTimeout(ctx, 8*time.Second)
			op(octx)
			cancel()
		}
	}()
}

// record notes an operation's outcome; acked runs under the lock.
func (l *soakLoad) record(err error, sent time.Time, acked func(), shards ...string) {
	at := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops++
	if err != nil {
		l.errors++
		msg := err.Error()
		l.why[msg[:min(len(msg), 60)]]++
		return
	}
	acked()
	for _, s := range shards {
		l.acks[s] = append(l.acks[s], soakAck{sent: sent, at: at})
	}
}

// stop ends the clients and waits for them.
func (l *soakLoad) stop() {
	l.cancel()
	l.wg.Wait()
}

// firstAckAfter returns when the first write to shard sent after since
// was acknowledged, zero if none yet.
func (l *soakLoad) firstAckAfter(shard string, since time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.acks[shard] {
		if a.sent.After(since) {
			return a.at
		}
	}
	return time.Time{}
}

// waitAckAfter waits up to limit for firstAckAfter.
func (l *soakLoad) waitAckAfter(shard string, since time.Time, limit time.Duration) time.Time {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if at := l.firstAckAfter(shard, since); !at.IsZero() {
			return at
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}
}

func (l *soakLoad) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	acked := 0
	for _, p := range l.pairs {
		if p.acked {
			acked++
		}
	}
	return fmt.Sprintf("%d operations: %d single-row inserts, %d of %d two-shard transactions acknowledged, %d failed (not acknowledged)",
		l.ops, len(l.inserted), acked, len(l.pairs), l.errors)
}

// failures lists the most frequent failures, most frequent first.
func (l *soakLoad) failures(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	msgs := make([]string, 0, len(l.why))
	for m := range l.why {
		msgs = append(msgs, m)
	}
	slices.SortFunc(msgs, func(a, b string) int { return l.why[b] - l.why[a] })
	out := ""
	for _, m := range msgs[:min(n, len(msgs))] {
		out += fmt.Sprintf("\n    %5d × %s", l.why[m], m)
	}
	return out
}

// verify checks the shards' current primaries (read directly, as
// primaryRows gives them): every acknowledged insert and both rows of
// every acknowledged pair present, no pair half-present, every counter
// at least its last acknowledged value and at most its last tried.
func (l *soakLoad) verify(t *testing.T, primaryRows func(query string) map[int64]int64) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	rows := primaryRows("SELECT id, 0 FROM soak_rows")
	var lost []int64
	for _, id := range l.inserted {
		if _, ok := rows[id]; !ok {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("acknowledged inserts missing on the primaries: got %d lost %v, want none (of %d)", len(lost), lost, len(l.inserted))
	}
	pairs := primaryRows("SELECT id, pair FROM soak_pairs")
	bad := 0
	for _, p := range l.pairs {
		_, hasLow := pairs[p.low]
		_, hasHigh := pairs[p.high]
		switch {
		case p.acked && !(hasLow && hasHigh):
			bad++
			t.Errorf("acknowledged two-shard transaction (%d on -80, %d on 80-): got present %v and %v, want both", p.low, p.high, hasLow, hasHigh)
		case hasLow != hasHigh:
			bad++
			t.Errorf("two-shard transaction (%d on -80, %d on 80-), not acknowledged: got present %v and %v, want both or neither", p.low, p.high, hasLow, hasHigh)
		}
		if bad > 10 {
			break
		}
	}
	counters := primaryRows("SELECT id, n FROM soak_counters")
	for _, id := range slices.Sorted(func(yield func(int64) bool) {
		for id := range l.counters {
			if !yield(id) {
				return
			}
		}
	}) {
		c, n := l.counters[id], counters[id]
		if n < c.acked || n > c.tried {
			t.Errorf("counter %d: got %d, want between %d (last acknowledged) and %d (last tried)", id, n, c.acked, c.tried)
		}
	}
}

// insertPair inserts low and high in one transaction (2PC: they are on
// different shards).
func insertPair(ctx context.Context, db *sql.DB, low, high int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO soak_pairs (id, pair) VALUES (?, ?), (?, ?)", low, high, high, low); err != nil {
		return err
	}
	return tx.Commit()
}
