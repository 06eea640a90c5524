package main

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"syscall"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/twopc"
)

// failpointEnv must be "1" for --twopc-crash-after to do anything, so a
// stray flag in production can't crash a gateway.
const failpointEnv = "SHARDGATE_TEST_FAILPOINTS"

// crashPoints are the values --twopc-crash-after accepts.
var crashPoints = []string{twopc.PointPreparedFirst, twopc.PointPreparedAll, twopc.PointDecided, twopc.PointCommittedFirst}

// check validates the transaction flags.
func (g *gatewayFlags) check() error {
	if !gateway.ValidTransactionMode(g.txMode) {
		return fmt.Errorf("--transaction-mode %q: want twopc, multi or single", g.txMode)
	}
	if g.twopcCrashAfter != "" && !slices.Contains(crashPoints, g.twopcCrashAfter) {
		return fmt.Errorf("--twopc-crash-after %q: want one of %v", g.twopcCrashAfter, crashPoints)
	}
	return nil
}

// crashFailpoint is the 2PC failpoint hook for --twopc-crash-after: at
// the named point of the first multi-shard commit it SIGKILLs this
// process (no deferred cleanup, no lease revocation: what a crash does).
func crashFailpoint(point string, logger *slog.Logger) func(string) {
	if point == "" || os.Getenv(failpointEnv) != "1" {
		return nil
	}
	return func(at string) {
		if at != point {
			return
		}
		logger.Warn("twopc failpoint: killing this process", "point", at)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
