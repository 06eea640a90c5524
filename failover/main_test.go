package failover_test

import (
	"os"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: a Controller's
// election session, lock sessions and checks must end with its Run.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m.Run)) }
