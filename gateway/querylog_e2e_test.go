package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/querystats"
)

// lockedBuffer is a query log destination the test reads while the
// gateway writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("query log line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// startLoggingGateway starts a gateway on the shared cluster whose query
// log goes to a buffer.
func startLoggingGateway(t *testing.T, cfg querystats.LogConfig) (*gateway.Server, *lockedBuffer) {
	t.Helper()
	buf := &lockedBuffer{}
	cfg.W = buf
	gw, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: shared.Get(t).Cluster.Store, QueryLog: querystats.NewLog(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	return gw, buf
}

// TestQueryLogSlowAndFailing: with a low slow-query threshold, a slow
// statement and a failing one are logged with their fields (literals
// replaced), a fast one is not; with sampling at 0 nothing is.
func TestQueryLogSlowAndFailing(t *testing.T) {
	setup := shared.db(t, "service", "")
	mustExec(t, setup, "CREATE TABLE IF NOT EXISTS obs_log (id BIGINT PRIMARY KEY, secret VARCHAR(20))")
	mustExec(t, setup, "REPLACE INTO obs_log (id, secret) VALUES (1, 'fast-secret')")
	gw, buf := startLoggingGateway(t, querystats.LogConfig{SampleRate: 1, SlowThreshold: 150 * time.Millisecond})
	db := openGateway(t, gw.Addr())
	queryStrings(t, db, "SELECT secret FROM obs_log WHERE id = 1 AND secret <> 'fast'")
	queryStrings(t, db, "SELECT SLEEP(0.3) FROM obs_log WHERE id = 1 AND secret <> 'slow-secret'")
	if _, err := db.Exec("SELECT * FROM obs_log_missing WHERE id = 42"); errNumber(err) != 1146 {
		t.Fatalf("select from a missing table: got %v, want 1146", err)
	}

	lines := buf.lines(t)
	if len(lines) != 2 {
		t.Fatalf("query log has %d lines, want 2 (the slow and the failing statement):\n%v", len(lines), lines)
	}
	slow, failed := lines[0], lines[1]
	if got, want := slow["statement"], "SELECT SLEEP(?) FROM obs_log WHERE id = ? AND secret <> ?"; got != want {
		t.Errorf("slow statement logged as %q, want %q", got, want)
	}
	if d, _ := slow["duration_seconds"].(float64); d < 0.3 {
		t.Errorf("slow statement duration %v, want >= 0.3", slow["duration_seconds"])
	}
	if slow["slow"] != true || slow["rows"] != 1.0 || slow["shards"] != 1.0 || slow["user"] != "root" || slow["keyspace"] != "service" {
		t.Errorf("slow statement's line = %v, want slow, 1 row, 1 shard, user root, keyspace service", slow)
	}
	if id, _ := slow["digest"].(string); len(id) != 16 {
		t.Errorf("digest = %v, want a 16-hex-digit id", slow["digest"])
	}
	if _, err := time.Parse(time.RFC3339Nano, slow["time"].(string)); err != nil {
		t.Errorf("time %v: %v", slow["time"], err)
	}
	if got, want := failed["statement"], "SELECT * FROM obs_log_missing WHERE id = ?"; got != want {
		t.Errorf("failing statement logged as %q, want %q", got, want)
	}
	if failed["error_code"] != 1146.0 || !strings.Contains(failed["error"].(string), "obs_log_missing") {
		t.Errorf("failing statement's line = %v, want error 1146 with its message", failed)
	}
	for _, e := range lines {
		if s := e["statement"].(string); strings.Contains(s, "secret'") || strings.Contains(s, "42") {
			t.Errorf("logged statement keeps a literal: %q", s)
		}
	}

	gw0, buf0 := startLoggingGateway(t, querystats.LogConfig{SampleRate: 0})
	db0 := openGateway(t, gw0.Addr())
	queryStrings(t, db0, "SELECT SLEEP(0.2) FROM obs_log WHERE id = 1")
	if _, err := db0.Exec("SELECT * FROM obs_log_missing"); err == nil {
		t.Fatal("select from a missing table succeeded")
	}
	if lines := buf0.lines(t); len(lines) != 0 {
		t.Errorf("sampling at 0 logged %d lines: %v", len(lines), lines)
	}
}
