package twopc

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if goroutines of this package outlive the tests:
// the coordinator's record cleanups and settlers, and resolvers, must end
// with what owns them.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		var left []string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			left = left[:0]
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			for g := range strings.SplitSeq(string(buf), "\n\n") {
				if strings.Contains(g, "shardgate/twopc.") && !strings.Contains(g, "TestMain") {
					left = append(left, g)
				}
			}
			if len(left) == 0 {
				break
			}
		}
		if len(left) > 0 {
			fmt.Fprintf(os.Stderr, "twopc goroutines left behind:\n%s\n", strings.Join(left, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}
