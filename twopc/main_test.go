package twopc

import (
	"os"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: the
// coordinator's record cleanups and settlers, and resolvers, must end with
// what owns them.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m.Run)) }
