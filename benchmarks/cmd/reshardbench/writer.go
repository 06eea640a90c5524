package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// writer changes rows through the gateway at a steady rate, as an
// application would, and times every statement: inserts of new rows,
// updates and deletes of loaded ones.
type writer struct {
	db   *sql.DB
	rate int
	rng  *rand.Rand
	rows int   // ids 1..rows were loaded
	next int64 // the next new id

	mu        sync.Mutex
	latencies []time.Duration // since the last take
	errors    int
	lastErr   error
	// maxGap is the longest time between two acknowledgements.
	maxGap  time.Duration
	lastAck time.Time
}

func newWriter(db *sql.DB, rows, rate int) *writer {
	return &writer{db: db, rate: rate, rows: rows, next: int64(rows) + 1, rng: rand.New(rand.NewPCG(uint64(rows), 12))}
}

// run writes until ctx ends. One statement at a time: a statement that
// takes longer than the interval delays the next (the writer is a closed
// loop, so a stall shows as one long statement, not a pile of them).
func (w *writer) run(ctx context.Context) {
	tick := time.NewTicker(time.Second / time.Duration(w.rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var q string
		switch op := w.rng.IntN(4); op {
		case 0, 1:
			q = fmt.Sprintf("INSERT INTO %s (id, k, c, pad) VALUES (%d, %d, 'written', 'by the writer')", table, w.next, w.next%100000)
			w.next++
		case 2:
			q = fmt.Sprintf("UPDATE %s SET k = k + 1 WHERE id = %d", table, w.rng.IntN(w.rows)+1)
		default:
			q = fmt.Sprintf("DELETE FROM %s WHERE id = %d", table, w.rng.IntN(w.rows)+1)
		}
		start := time.Now()
		_, err := w.db.ExecContext(ctx, q)
		now := time.Now()
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		if err != nil {
			w.errors++
			w.lastErr = err
		} else {
			w.latencies = append(w.latencies, now.Sub(start))
			if !w.lastAck.IsZero() {
				w.maxGap = max(w.maxGap, now.Sub(w.lastAck))
			}
			w.lastAck = now
		}
		w.mu.Unlock()
	}
}

// writeStats is what the writer saw over a period.
type writeStats struct {
	Statements int           `json:"statements"`
	PerSecond  float64       `json:"per_second"`
	P50        time.Duration `json:"p50"`
	P99        time.Duration `json:"p99"`
	Max        time.Duration `json:"max"`
	// MaxGap is the longest time between two acknowledged writes.
	MaxGap  time.Duration `json:"max_gap"`
	Errors  int           `json:"errors"`
	LastErr string        `json:"last_error,omitempty"`
}

// take returns the stats since the last take (over elapsed) and starts
// a new period.
func (w *writer) take(elapsed time.Duration) writeStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.latencies
	s := writeStats{Statements: len(l), Errors: w.errors, MaxGap: w.maxGap}
	if w.lastErr != nil {
		s.LastErr = w.lastErr.Error()
	}
	if elapsed > 0 {
		s.PerSecond = float64(len(l)) / elapsed.Seconds()
	}
	if len(l) > 0 {
		slices.Sort(l)
		s.P50, s.P99, s.Max = l[len(l)/2], l[len(l)*99/100], l[len(l)-1]
	}
	w.latencies, w.errors, w.lastErr, w.maxGap = nil, 0, nil, 0
	return s
}
