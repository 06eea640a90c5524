package topo

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testEndpoints are those of the etcd that TestMain starts for the
// package; each test works under its own root.
var testEndpoints []string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "topo-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := StartEmbedded(ctx, EmbeddedConfig{Dir: dir, ClientAddr: "127.0.0.1:0"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testEndpoints = e.Endpoints()
	code := m.Run()
	e.Close()
	if code == 0 {
		if err := checkNoLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return code
}

// checkNoLeaks waits a little for goroutines of ours, of etcd or of gRPC
// (an unclosed etcd client leaves only gRPC's) to end, and fails listing
// those that don't.
func checkNoLeaks() error {
	var leaked []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		leaked = leaked[:0]
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if strings.Contains(g, "shardgate/topo.") && !strings.Contains(g, "topo.runTests") && !strings.Contains(g, "topo.checkNoLeaks") ||
				strings.Contains(g, "go.etcd.io/") || strings.Contains(g, "google.golang.org/grpc") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return nil
		}
	}
	return fmt.Errorf("leaked %d goroutines:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
}

// newStore opens a Store on the package's etcd, under a root of its own.
func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{Endpoints: testEndpoints, Root: "/test/" + t.Name()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
