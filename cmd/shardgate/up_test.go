package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

// syncBuffer is a bytes.Buffer safe to read while `up` writes to it.
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

var servingRE = regexp.MustCompile(`serving MySQL protocol on (\S+)`)

// startUp runs `shardgate up` as a user would (Ctrl-C is cancelling ctx) and
// returns the gateway address and a func that stops it and waits.
func startUp(t *testing.T, dataDir string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"up", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--etcd-addr", "127.0.0.1:0", "--log-level", "error"}, &stdout, &stderr)
	}()
	stop := func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("shardgate up exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("shardgate up did not stop within 2 minutes")
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if m := servingRE.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stop
		}
		select {
		case code := <-done:
			t.Fatalf("shardgate up exited %d before serving\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("shardgate up not serving within 3 minutes\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	}
}

// TestUpRestartKeepsRows: rows written through `shardgate up` are all there
// after stopping it and starting it again on the same data directory, and
// the demo keyspaces are what the README promises.
func TestUpRestartKeepsRows(t *testing.T) {
	dataDir := t.TempDir()
	addr, stop := startUp(t, dataDir)
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service", addr))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("create table kept (id bigint primary key, v varchar(20))"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i += 50 {
		q := "insert into kept (id, v) values "
		for id := i; id < i+50; id++ {
			if id > i {
				q += ", "
			}
			q += fmt.Sprintf("(%d, 'v%d')", id, id)
		}
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var shards int
	rows, err := db.Query("show vitess_shards")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		shards++
	}
	rows.Close()
	if shards != 5 {
		t.Errorf("show vitess_shards: got %d shards, want 5 (global/0 and four of service)", shards)
	}
	db.Close()
	stop()

	addr, stop = startUp(t, dataDir)
	defer stop()
	db, err = sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var sum int64
	if err := db.QueryRow("select count(*), sum(id) from kept").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 200 || sum != 199*200/2 {
		t.Errorf("after restart: got count %d sum %d, want 200 and %d", n, sum, 199*200/2)
	}
	var v string
	if err := db.QueryRow("select v from kept where id = ?", 123).Scan(&v); err != nil || v != "v123" {
		t.Errorf("after restart: point select got %q, %v; want v123", v, err)
	}
}
