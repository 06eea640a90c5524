package tablet_test

import (
	"os"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: every goroutine
// the package starts (a child's waiter, a pool's reaper timer, a
// cancellation watcher) must end with what owns it.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m.Run)) }
