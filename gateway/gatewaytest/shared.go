package gatewaytest

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// Shared is the Env a package's integration tests share, started by the
// first test that asks for it, so a run of only the package's unit tests
// (`go test -run TestFramePackets`, or `-short`) starts no mariadbd.
// Tests ask through Env; TestMain runs them through Main, which stops it.
type Shared struct {
	prefix string
	start  func(dir string) (*Env, error)

	once      sync.Once
	dir       string
	env       *Env
	err       error
	startedBy string // the test that asked first
}

// NewShared returns a Shared that start builds, on first use, in a fresh
// temporary directory named after prefix (removed by Stop).
func NewShared(prefix string, start func(dir string) (*Env, error)) *Shared {
	return &Shared{prefix: prefix, start: start}
}

// Env returns the environment, starting it if no test has yet. Under
// -short the test is skipped instead; if the start failed, every test
// that needs the environment fails with its error.
func (s *Shared) Env(t testing.TB) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the shared test cluster (skipped with -short)")
	}
	s.once.Do(func() {
		s.startedBy = t.Name()
		s.dir, s.err = os.MkdirTemp("", s.prefix)
		if s.err != nil {
			return
		}
		s.env, s.err = s.start(s.dir)
	})
	if s.err != nil {
		t.Fatalf("start the shared test cluster: %v", s.err)
	}
	return s.env
}

// Started reports whether a test has asked for the environment, and which.
func (s *Shared) Started() (bool, string) {
	return s.startedBy != "", s.startedBy
}

// Stop stops the environment if it was started and removes its directory.
func (s *Shared) Stop() {
	if s.env != nil {
		s.env.Stop()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// Main is the body of a TestMain: it runs the tests, stops the shared
// environment if one of them started it, and fails the run if goroutines
// outlive them (leakcheck, with opts). With -v it says whether the
// environment was started, and by which test. It returns the exit code for os.Exit.
func Main(m *testing.M, shared *Shared, opts ...leakcheck.Option) int {
	return leakcheck.Main(func() int {
		code := m.Run()
		shared.Stop()
		started, by := shared.Started()
		if testing.Verbose() {
			if started {
				fmt.Printf("gatewaytest: %s started the shared test cluster\n", by)
			} else {
				fmt.Println("gatewaytest: no test needed the shared test cluster; none started")
			}
		}
		return code
	}, opts...)
}
