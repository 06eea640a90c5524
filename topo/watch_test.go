package topo

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// syncBuffer is a bytes.Buffer safe for a logger writing from other
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWatchSurvivesEtcdRestart stops etcd under a running watch; the watch
// retries and delivers what was written after etcd came back.
//
// Closing an embedded etcd under a live watch waits for etcd's request
// timeout (~7s) before it cuts the stream, so this test runs in parallel.
func TestWatchSurvivesEtcdRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	e, err := StartEmbedded(ctx, EmbeddedConfig{Dir: dir, ClientAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(e.Endpoints()[0], "http://")
	var logs syncBuffer
	s, err := Open(ctx, Config{Endpoints: e.Endpoints(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	defer s.Close()

	wctx, cancel := context.WithCancel(ctx)
	snaps := make(chan *Snapshot, 100)
	done := make(chan error, 1)
	go func() { done <- s.WatchSnapshots(wctx, func(snap *Snapshot) { snaps <- snap }) }()
	stopWatch := sync.OnceFunc(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("WatchSnapshots after cancel: got %v, want context.Canceled", err)
		}
	})
	<-snaps

	e.Close()
	time.Sleep(300 * time.Millisecond) // let the watch notice
	e, err = StartEmbedded(ctx, EmbeddedConfig{Dir: dir, ClientAddr: addr})
	if err != nil {
		t.Fatalf("restart etcd on %s: %v", addr, err)
	}
	defer e.Close()
	defer stopWatch() // before closing etcd, which then closes at once
	restarted := time.Now()
	mustCreateKeyspace(t, s, "after", false)
	t.Logf("write after restart took %v", time.Since(restarted))
	timeout := time.After(15 * time.Second)
	for {
		select {
		case snap := <-snaps:
			if snap.Keyspaces["after"] != nil {
				t.Logf("seen %v after restart", time.Since(restarted))
				return
			}
		case <-timeout:
			stopWatch()
			t.Fatalf("no snapshot with keyspace %q within 15s of etcd's restart; logs:\n%s", "after", logs.String())
		}
	}
}

func TestZapToSlog(t *testing.T) {
	var buf syncBuffer
	lg := zapToSlog(slog.New(slog.NewTextHandler(&buf, nil)), zapcore.WarnLevel, nil)
	lg.Info("dropped")
	lg.With(zap.String("member", "m1")).Error("boom", zap.Int("code", 7))
	got := buf.String()
	if strings.Contains(got, "dropped") || !strings.Contains(got, "level=ERROR msg=boom") || !strings.Contains(got, "member=m1") || !strings.Contains(got, "code=7") {
		t.Errorf("zapToSlog output: got %q, want only the error with its fields", got)
	}
	zapToSlog(nil, zapcore.DebugLevel, nil).Error("nowhere") // must not panic
}
