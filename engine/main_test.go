package engine

import (
	"os"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: the streaming
// merge's shard readers must end with the merge, however it ends.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m.Run)) }
