package reshard

import (
	"os"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: a runner's
// election watcher and copy goroutines must end with Run. Started with
// runnerProcessEnv set, the test binary is instead a controller process
// for the kill test (runnerProcess).
func TestMain(m *testing.M) {
	if os.Getenv(runnerProcessEnv) != "" {
		os.Exit(runnerProcess())
	}
	os.Exit(leakcheck.Main(m.Run))
}
