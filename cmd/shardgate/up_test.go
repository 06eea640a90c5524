package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
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

var (
	servingRE   = regexp.MustCompile(`serving MySQL protocol on (\S+)`)
	endpointsRE = regexp.MustCompile(`--topo-endpoints (\S+)`)
)

// applyWithShardctl shows an operator's `shardctl vschema apply` changing
// the running gateway's routing: a table created on the shards behind the
// gateway's back is unknown (1146) until the applied vschema names it.
func applyWithShardctl(t *testing.T, db *sql.DB, upOutput string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shardctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../shardctl").CombinedOutput(); err != nil {
		t.Fatalf("build shardctl: %v\n%s", err, out)
	}
	for _, shard := range []string{"-40", "40-80", "80-c0", "c0-"} {
		if _, err := db.Exec("use `service:" + shard + "`"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("create table applied (id bigint primary key)"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("use service"); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "insert into applied (id) values (1)")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1146 {
		t.Fatalf("insert before apply: got %v, want error 1146", err)
	}
	m := endpointsRE.FindStringSubmatch(upOutput)
	if m == nil {
		t.Fatalf("up's banner names no --topo-endpoints:\n%s", upOutput)
	}
	shardctl := func(args ...string) string {
		out, err := exec.Command(bin, append([]string{"--topo-endpoints", m[1]}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("shardctl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	vs := shardctl("vschema", "get", "--keyspace", "service")
	if !strings.Contains(vs, `"kept"`) {
		t.Errorf("vschema get: the table CREATE TABLE added is missing:\n%s", vs)
	}
	file := filepath.Join(t.TempDir(), "vschema.json")
	applied := strings.Replace(vs, `"tables": {`, `"tables": {"applied": {"column_vindexes": [{"column": "id", "name": "hash"}]},`, 1)
	if err := os.WriteFile(file, []byte(applied), 0o644); err != nil {
		t.Fatal(err)
	}
	shardctl("vschema", "apply", "--keyspace", "service", "--file", file)
	deadline := time.Now().Add(time.Second)
	for {
		_, err = conn.ExecContext(context.Background(), "insert into applied (id) values (1)")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("insert within 1s of shardctl vschema apply: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startUp runs `shardgate up` as a user would (Ctrl-C is cancelling ctx) and
// returns the gateway address, what it printed, and a func that stops it
// and waits.
func startUp(t *testing.T, dataDir string) (string, string, func()) {
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
		out := stdout.String()
		if m := servingRE.FindStringSubmatch(out); m != nil && strings.Contains(out, "Ctrl-C") {
			return m[1], out, stop
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
	addr, banner, stop := startUp(t, dataDir)
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
	applyWithShardctl(t, db, banner)
	db.Close()
	stop()

	addr, _, stop = startUp(t, dataDir)
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
	checkUpShardAccount(t, addr, dataDir)
	var v string
	if err := db.QueryRow("select v from kept where id = ?", 123).Scan(&v); err != nil || v != "v123" {
		t.Errorf("after restart: point select got %q, %v; want v123", v, err)
	}

	// The replicas replicate again after the restart and serve `@replica` reads.
	replica, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service@replica", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	_, err = replica.Exec("insert into kept (id, v) values (2000, 'to a replica')")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1290 {
		t.Errorf("insert with a replica target: got %v, want error 1290 (read-only)", err)
	}
	if _, err := db.Exec("insert into kept (id, v) values (1000, 'after')"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := replica.QueryRow("select count(*) from kept").Scan(&n)
		if err == nil && n == 201 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica read: got %d rows (err %v), want 201 within 10s", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
