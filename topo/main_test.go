package topo

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// testEndpoints are those of the etcd that TestMain starts for the
// package; each test works under its own root.
var testEndpoints []string

func TestMain(m *testing.M) {
	os.Exit(leakcheck.Main(func() int { return runTests(m) }))
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
	defer e.Close()
	return m.Run()
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
