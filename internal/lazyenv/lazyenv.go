package lazyenv

import (
	"fmt"
	"sync"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// Env is an environment of type T started by the first test that calls
// Get, once per test binary, and stopped by Main.
type Env[T any] struct {
	name  string
	start func() (T, func(), error)

	once      sync.Once
	val       T
	stop      func()
	err       error
	startedBy string
}

// New returns an Env named name (for messages: "the test cluster") that
// start builds on first use; start returns the environment and the
// function that stops it.
func New[T any](name string, start func() (T, func(), error)) *Env[T] {
	return &Env[T]{name: name, start: start}
}

// Get returns the environment, starting it if no test has yet. Under
// -short the test is skipped instead; if the start failed, every test
// that needs the environment fails with its error.
func (e *Env[T]) Get(t testing.TB) T {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s (skipped with -short)", e.name)
	}
	e.once.Do(func() {
		e.startedBy = t.Name()
		e.val, e.stop, e.err = e.start()
	})
	if e.err != nil {
		t.Fatalf("start %s: %v", e.name, e.err)
	}
	return e.val
}

// StartedBy is the test that started the environment, or "" if none did.
func (e *Env[T]) StartedBy() string { return e.startedBy }

// Stop stops the environment if it was started.
func (e *Env[T]) Stop() {
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
}

// Main is the body of a TestMain: it runs the tests, stops env if one of
// them started it, and fails the run if goroutines outlive them
// (leakcheck, with opts). Under -v it says whether env was started, and
// by which test. It returns the exit code for os.Exit.
func Main[T any](m *testing.M, env *Env[T], opts ...leakcheck.Option) int {
	return leakcheck.Main(func() int {
		code := m.Run()
		env.Stop()
		if testing.Verbose() {
			if by := env.StartedBy(); by != "" {
				fmt.Printf("lazyenv: %s started %s\n", by, env.name)
			} else {
				fmt.Printf("lazyenv: no test needed %s; it was not started\n", env.name)
			}
		}
		return code
	}, opts...)
}
