package querystats

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// LogConfig configures a query log.
type LogConfig struct {
	// W receives one JSON object per line. Writes are serialised; a slow
	// W slows the statements that log, so give it a file or a pipe that
	// is read.
	W io.Writer
	// SampleRate is the fraction of candidate statements logged, 0 to 1:
	// 1 logs every one, 0 none.
	SampleRate float64
	// SlowThreshold, when positive, makes only statements that took at
	// least this long, or failed, candidates; 0 makes every statement one.
	SlowThreshold time.Duration
}

// Log writes the query log: a statement is a candidate when it is slow
// (SlowThreshold) or failed, or every statement when there is no
// threshold; a candidate is logged with probability SampleRate.
type Log struct {
	cfg LogConfig

	mu  sync.Mutex
	enc *json.Encoder
}

// NewLog returns a log writing to cfg.W.
func NewLog(cfg LogConfig) *Log {
	return &Log{cfg: cfg, enc: json.NewEncoder(cfg.W)}
}

// Entry is one line of the query log.
type Entry struct {
	Time     time.Time `json:"time"`
	User     string    `json:"user"`
	Keyspace string    `json:"keyspace"`
	// Digest is the statement's digest id (SHOW QUERY STATS); Statement
	// its text with the literals replaced.
	Digest    string  `json:"digest"`
	Statement string  `json:"statement"`
	Duration  float64 `json:"duration_seconds"`
	Rows      uint64  `json:"rows"`
	// Shards is the number of shard queries the statement sent.
	Shards int `json:"shards"`
	// Error and ErrorCode are the MySQL error the client got, if any.
	Error     string `json:"error,omitempty"`
	ErrorCode uint16 `json:"error_code,omitempty"`
	Slow      bool   `json:"slow,omitempty"`
}

// Wants says whether a statement that took took (and failed or not) is
// to be logged; the caller builds the Entry only then.
func (l *Log) Wants(took time.Duration, failed bool) bool {
	if l == nil || l.cfg.SampleRate <= 0 {
		return false
	}
	if t := l.cfg.SlowThreshold; t > 0 && took < t && !failed {
		return false
	}
	return l.cfg.SampleRate >= 1 || rand.Float64() < l.cfg.SampleRate
}

// Write logs e. Write errors are dropped: the query log must never fail a
// statement.
func (l *Log) Write(e *Entry) {
	if t := l.cfg.SlowThreshold; t > 0 && e.Duration >= t.Seconds() {
		e.Slow = true
	}
	l.mu.Lock()
	_ = l.enc.Encode(e)
	l.mu.Unlock()
}
