package localcluster

import (
	"os"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m.Run)) }
