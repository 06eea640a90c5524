// Package tablettest starts real mariadbd instances for tests: one per
// call, in the test's temporary directory, stopped when the test ends.
package tablettest

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
)

// StartTimeout bounds Init plus Start of one instance.
const StartTimeout = 2 * time.Minute

// StopTimeout bounds the clean shutdown at the end of a test.
const StopTimeout = time.Minute

// StartMysqld initialises and starts a mariadbd in tb.TempDir() on a free
// port and returns it running; tb's cleanup stops it and then fails tb if
// any mariadbd of that directory is left. It fails tb (never skips) when
// MariaDB is not installed.
func StartMysqld(tb testing.TB) *tablet.Mysqld {
	tb.Helper()
	dir := tb.TempDir()
	m := tablet.NewMysqld(tablet.MysqldConfig{Dir: dir, Logger: Logger(tb)})
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if err := m.Init(ctx); err != nil {
		tb.Fatalf("tablettest: %v", err)
	}
	// Registered after TempDir's removal, so it runs before it.
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
		defer cancel()
		if err := m.Stop(ctx); err != nil {
			tb.Errorf("tablettest: %v", err)
		}
		if pids := Processes(dir); len(pids) > 0 {
			tb.Errorf("tablettest: mariadbd processes of %s left behind: %v", dir, pids)
		}
	})
	if err := m.Start(ctx); err != nil {
		tb.Fatalf("tablettest: %v", err)
	}
	return m
}

// Processes lists the pids of the mariadbd processes whose --defaults-file
// lies under dir (what `pgrep -f -- --defaults-file=DIR` finds, read from
// /proc directly).
func Processes(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := []byte("--defaults-file=" + filepath.Clean(dir) + string(filepath.Separator))
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if bytes.Contains(cmdline, want) && bytes.Contains(cmdline, []byte("mariadbd")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Logger logs to tb's output at Warn and above (set SHARDGATE_TEST_LOG=debug
// for everything).
func Logger(tb testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("SHARDGATE_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: level}))
}
