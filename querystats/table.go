package querystats

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxDigests bounds a Table when its config names no bound.
const DefaultMaxDigests = 1000

// Table holds the digests of one gateway, by keyspace and normalised
// text. It keeps at most max of them: a new digest in a full table
// replaces the one run the fewest times (so the statements that matter
// stay, and a flood of one-off texts cannot grow it). Safe for use by
// every session at once.
type Table struct {
	max int

	mu      sync.Mutex
	digests map[digestKey]*Digest
}

type digestKey struct{ keyspace, text string }

// NewTable returns a table of at most max digests (DefaultMaxDigests if
// max <= 0).
func NewTable(max int) *Table {
	if max <= 0 {
		max = DefaultMaxDigests
	}
	return &Table{max: max, digests: map[digestKey]*Digest{}}
}

// Digest is one normalised statement's counters. Callers may keep a
// *Digest (a cached plan does) and record into it without the table's
// lock, as long as Evicted is false; once evicted it is no longer listed
// and they look it up again.
type Digest struct {
	// ID is a short hash of the keyspace and text, the "digest" of the
	// query log and SHOW QUERY STATS.
	ID       string
	Keyspace string
	Text     string

	count, rows, errors, shardQueries, totalNanos atomic.Uint64
	latency                                       latency
	evicted                                       atomic.Bool
}

// Lookup returns the digest of text (already normalised) in keyspace,
// adding it if it is new.
func (t *Table) Lookup(keyspace, text string) *Digest {
	k := digestKey{keyspace, text}
	t.mu.Lock()
	defer t.mu.Unlock()
	if d := t.digests[k]; d != nil {
		return d
	}
	if len(t.digests) >= t.max {
		t.evictLeastUsed()
	}
	d := &Digest{ID: digestID(keyspace, text), Keyspace: keyspace, Text: text}
	t.digests[k] = d
	return d
}

// evictLeastUsed drops the digest run the fewest times (t.mu held). It
// scans the table: new digests in a full table are rare next to the
// statements that find theirs.
func (t *Table) evictLeastUsed() {
	var victim digestKey
	var least *Digest
	for k, d := range t.digests {
		if least == nil || d.count.Load() < least.count.Load() {
			victim, least = k, d
		}
	}
	if least != nil {
		least.evicted.Store(true)
		delete(t.digests, victim)
	}
}

func digestID(keyspace, text string) string {
	h := fnv.New64a()
	h.Write([]byte(keyspace))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return fmt.Sprintf("%016x", h.Sum64())
}

// Evicted says the table no longer lists d.
func (d *Digest) Evicted() bool { return d.evicted.Load() }

// Record counts one run of the statement: how long it took, the rows it
// returned or changed, how many shard queries it sent, and whether it
// failed. Lock-free.
func (d *Digest) Record(took time.Duration, rows uint64, shardQueries int, failed bool) {
	d.count.Add(1)
	d.rows.Add(rows)
	d.shardQueries.Add(uint64(shardQueries))
	d.totalNanos.Add(uint64(max(took, 0)))
	if failed {
		d.errors.Add(1)
	}
	d.latency.observe(took)
}

// Stats is a digest's counters at one moment.
type Stats struct {
	ID       string        `json:"id"`
	Keyspace string        `json:"keyspace"`
	Text     string        `json:"text"`
	Count    uint64        `json:"count"`
	Rows     uint64        `json:"rows"`
	Errors   uint64        `json:"errors"`
	Total    time.Duration `json:"total_ns"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	// ShardQueries is the number of shard queries the runs sent; divided
	// by Count, the shards a run touches on average.
	ShardQueries uint64 `json:"shard_queries"`
}

// Stats reads d's counters.
func (d *Digest) Stats() Stats {
	q := d.latency.quantiles(0.5, 0.99)
	return Stats{
		ID: d.ID, Keyspace: d.Keyspace, Text: d.Text,
		Count: d.count.Load(), Rows: d.rows.Load(), Errors: d.errors.Load(),
		Total: time.Duration(d.totalNanos.Load()), P50: q[0], P99: q[1],
		ShardQueries: d.shardQueries.Load(),
	}
}

// Top returns up to n digests (all if n <= 0), those that took the most
// time in total first (then the most run, then by text): what a DBA looks
// at first.
func (t *Table) Top(n int) []Stats {
	t.mu.Lock()
	all := make([]*Digest, 0, len(t.digests))
	for _, d := range t.digests {
		all = append(all, d)
	}
	t.mu.Unlock()
	out := make([]Stats, 0, len(all))
	for _, d := range all {
		if s := d.Stats(); s.Count > 0 {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Stats) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(b.Count, a.Count),
			cmp.Compare(a.Keyspace, b.Keyspace), cmp.Compare(a.Text, b.Text))
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Len is the number of digests held.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.digests)
}
