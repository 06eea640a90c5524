package reshard

import (
	"os"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: a runner's
// election watcher and copy goroutines must end with Run.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m.Run)) }
