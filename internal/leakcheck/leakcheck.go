package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// defaultWait is how long goroutines get to end after the tests: a closed
// connection's reader or a stopped timer's goroutine needs a moment.
const defaultWait = 5 * time.Second

// alwaysIgnored are goroutines the standard library starts once and keeps
// for the life of the process.
var alwaysIgnored = []string{
	"os/signal.signal_recv", // the first signal.Notify's reader
	"os/signal.loop",
}

// Option adjusts a check.
type Option func(*config)

type config struct {
	ignore []string
	wait   time.Duration
}

// Ignore treats goroutines whose stack contains any of the given strings
// as expected survivors: a function name ("go.etcd.io/etcd/client/v3.")
// matches a goroutine running it, or created by it ("created by ..." is
// part of the stack).
func Ignore(substrings ...string) Option {
	return func(c *config) { c.ignore = append(c.ignore, substrings...) }
}

// Wait sets how long goroutines get to end before they count as leaked
// (default 5s).
func Wait(d time.Duration) Option {
	return func(c *config) { c.wait = d }
}

// Snapshot is the set of goroutines alive at one moment, by id.
type Snapshot map[uint64]bool

// Take records the goroutines alive now.
func Take() Snapshot {
	s := Snapshot{}
	for _, g := range goroutines() {
		s[g.id] = true
	}
	return s
}

// Leaked waits for every goroutine started since s was taken, and not
// ignored, to end; it returns an error listing the stacks of those still
// alive when the wait is over, or nil.
func (s Snapshot) Leaked(opts ...Option) error {
	c := config{wait: defaultWait, ignore: alwaysIgnored}
	for _, o := range opts {
		o(&c)
	}
	deadline := time.Now().Add(c.wait)
	for {
		left := s.newSince(c.ignore)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leakcheck: %d goroutines still running %v after the tests:\n\n%s", len(left), c.wait, strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Main is the body of a TestMain: run runs the tests (m.Run, and stops
// whatever the package's tests share); if they pass, Main fails the run
// when goroutines started since it began outlive them. It returns the
// exit code for os.Exit.
func Main(run func() int, opts ...Option) int {
	before := Take()
	code := run()
	if code != 0 {
		return code
	}
	if err := before.Leaked(opts...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func (s Snapshot) newSince(ignore []string) []string {
	var left []string
	for _, g := range goroutines() {
		if !s[g.id] && !mentionsAny(g.stack, ignore) {
			left = append(left, g.stack)
		}
	}
	return left
}

func mentionsAny(stack string, substrings []string) bool {
	for _, sub := range substrings {
		if strings.Contains(stack, sub) {
			return true
		}
	}
	return false
}

type goroutine struct {
	id    uint64
	stack string
}

// goroutines parses runtime.Stack's dump of every goroutine: blocks
// separated by a blank line, each headed "goroutine N [state]:".
func goroutines() []goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutine
	for block := range strings.SplitSeq(string(buf), "\n\n") {
		header, _, _ := strings.Cut(block, " [")
		id, err := strconv.ParseUint(strings.TrimPrefix(header, "goroutine "), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, goroutine{id: id, stack: block})
	}
	return out
}
