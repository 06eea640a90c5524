package topo

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shardgate/shardgate/internal/lazyenv"
)

// etcd is the embedded etcd the package's store tests share, started by
// the first that asks for it (testEndpoints); each test works under its
// own root.
var etcd = lazyenv.New("the test etcd", func() ([]string, func(), error) {
	dir, err := os.MkdirTemp("", "topo-test-")
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := StartEmbedded(ctx, EmbeddedConfig{Dir: dir, ClientAddr: "127.0.0.1:0"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return e.Endpoints(), func() { e.Close(); os.RemoveAll(dir) }, nil
})

func TestMain(m *testing.M) { os.Exit(lazyenv.Main(m, etcd)) }

// testEndpoints are those of the package's etcd, started if no test has
// yet.
func testEndpoints(t testing.TB) []string {
	t.Helper()
	return etcd.Get(t)
}

// newStore opens a Store on the package's etcd, under a root of its own.
func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{Endpoints: testEndpoints(t), Root: "/test/" + t.Name()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
