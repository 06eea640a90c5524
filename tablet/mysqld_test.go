package tablet_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// query runs one statement on a fresh TCP connection as root and returns
// its rows as strings ("NULL" for NULL).
func query(t *testing.T, cfg tablet.ConnConfig, q string) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := tablet.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial(%s): %v", cfg.Addr, err)
	}
	defer func() { _ = c.Close() }()
	r, err := c.Execute(ctx, q)
	if err != nil {
		t.Fatalf("Execute(%q): %v", q, err)
	}
	return rowStrings(r.Rows)
}

func rowStrings(rows [][][]byte) [][]string {
	out := make([][]string, len(rows))
	for i, row := range rows {
		out[i] = make([]string, len(row))
		for j, v := range row {
			if v == nil {
				out[i][j] = "NULL"
			} else {
				out[i][j] = string(v)
			}
		}
	}
	return out
}

func newMysqld(t *testing.T, dir string) *tablet.Mysqld {
	return tablet.NewMysqld(tablet.MysqldConfig{Dir: dir, Logger: tablettest.Logger(t)})
}

func TestMysqldLifecycle(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if pids := tablettest.Processes(dir); len(pids) > 0 {
			t.Errorf("mariadbd processes of %s left behind: %v", dir, pids)
		}
	})

	m := newMysqld(t, dir)
	if err := m.Start(ctx); !errors.Is(err, tablet.ErrNotInitialized) {
		t.Fatalf("Start before Init: got %v, want ErrNotInitialized", err)
	}
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Kill() })
	port := m.Port()
	if port == 0 {
		t.Fatal("Init picked no port")
	}
	for _, f := range []string{"my.cnf", "data/mysql", "tmp"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after Init: %v", err)
		}
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatalf("Start of a running instance: %v", err)
	}
	if got, want := m.Addr(), fmt.Sprintf("127.0.0.1:%d", port); got != want {
		t.Errorf("Addr() = %q, want %q", got, want)
	}
	if pids := tablettest.Processes(dir); len(pids) != 1 {
		t.Errorf("running: got mariadbd pids %v, want one", pids)
	}
	cfg := m.ConnConfig()
	query(t, cfg, "CREATE DATABASE app")
	query(t, cfg, "CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(10))")
	query(t, cfg, "INSERT INTO app.t VALUES (1, 'one')")

	// The settings my.cnf asks for are in force.
	got := query(t, cfg, "SELECT @@server_id, @@log_bin, @@binlog_format, @@gtid_strict_mode, @@performance_schema, "+
		"@@character_set_server, @@max_connections, @@innodb_flush_log_at_trx_commit, @@sync_binlog, @@bind_address, @@read_only")
	want := fmt.Sprintf("[[%d 1 ROW 1 0 utf8mb4 500 1 1 127.0.0.1 0]]", port)
	if fmt.Sprint(got) != want {
		t.Errorf("settings: got %v, want %v", got, want)
	}
	// The replication account can log in over TCP.
	query(t, tablet.ConnConfig{Addr: m.Addr(), User: tablet.ReplicationUser, Password: tablet.ReplicationPassword}, "SELECT 1")

	// A second Mysqld can't start a directory that is running.
	if err := newMysqld(t, dir).Start(ctx); !errors.Is(err, tablet.ErrAlreadyRunning) {
		t.Errorf("Start of a directory another Mysqld runs: got %v, want ErrAlreadyRunning", err)
	}

	// Clean stop and restart: data and port stay.
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if m.Running() {
		t.Error("Running() after Stop")
	}
	if pids := tablettest.Processes(dir); len(pids) != 0 {
		t.Errorf("stopped: got mariadbd pids %v, want none", pids)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := query(t, cfg, "SELECT v FROM app.t WHERE id = 1"); fmt.Sprint(got) != "[[one]]" {
		t.Errorf("after restart: got %v, want [[one]]", got)
	}

	// Crash (SIGKILL) and restart: committed data survives.
	query(t, cfg, "INSERT INTO app.t VALUES (2, 'two')")
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if pids := tablettest.Processes(dir); len(pids) != 0 {
		t.Errorf("killed: got mariadbd pids %v, want none", pids)
	}

	// A new Mysqld on the same directory (a new shardgate process): Init
	// keeps the data and the port.
	m2 := newMysqld(t, dir)
	t.Cleanup(func() { _ = m2.Kill() })
	if err := m2.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if m2.Port() != port {
		t.Errorf("port after re-Init: got %d, want %d", m2.Port(), port)
	}
	if err := m2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := query(t, cfg, "SELECT id, v FROM app.t ORDER BY id"); fmt.Sprint(got) != "[[1 one] [2 two]]" {
		t.Errorf("after crash and restart: got %v, want [[1 one] [2 two]]", got)
	}
	if err := m2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMysqldStartFailureShowsErrorLog(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m := newMysqld(t, dir)
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Kill() })
	// Break my.cnf the way a typo would.
	cnf := filepath.Join(dir, "my.cnf")
	b, err := os.ReadFile(cnf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cnf, append(b, "no_such_setting = 1\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	err = m.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "no_such_setting") || !strings.Contains(err.Error(), "exited during startup") {
		t.Fatalf("Start with a bad my.cnf: got %v, want an error quoting error.log about no_such_setting", err)
	}
	t.Logf("Start with a bad my.cnf: %v", err)
	if pids := tablettest.Processes(dir); len(pids) != 0 {
		t.Errorf("after a failed start: got mariadbd pids %v, want none", pids)
	}
	// Init rewrites my.cnf, which repairs it.
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatalf("Start after re-Init: %v", err)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMysqldNotInstalled(t *testing.T) {
	m := newMysqld(t, t.TempDir())
	m.SetFindBinary(func(string) (string, error) { return "", tablet.ErrNotInstalled })
	err := m.Init(context.Background())
	want := "mariadbd not found: install mariadb-server (apt-get install -y mariadb-server)"
	if !errors.Is(err, tablet.ErrNotInstalled) || !strings.Contains(err.Error(), want) {
		t.Errorf("Init without MariaDB: got %v, want %q", err, want)
	}
}

// TestMysqldDiesWithItsParent crashes a process that started a mariadbd
// (this test binary, re-run as a child that exits without stopping it) and
// checks that the mariadbd goes too.
func TestMysqldDiesWithItsParent(t *testing.T) {
	if dir := os.Getenv("TABLET_TEST_ORPHAN_DIR"); dir != "" {
		m := tablet.NewMysqld(tablet.MysqldConfig{Dir: dir})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := m.Init(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		fmt.Println("started")
		os.Exit(3) // a crash: no Stop, no cleanup
	}
	dir := t.TempDir()
	t.Cleanup(func() {
		for _, pid := range tablettest.Processes(dir) {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
	})
	cmd := exec.Command(os.Args[0], "-test.run=^TestMysqldDiesWithItsParent$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TABLET_TEST_ORPHAN_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || !strings.Contains(string(out), "started") {
		t.Fatalf("child: got %v, want exit status 3 after starting mariadbd; output:\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := tablettest.Processes(dir)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd %v outlived the process that started it", pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
