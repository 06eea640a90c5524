// Package leakcheck fails a test binary, or one test, whose goroutines
// outlive it: every goroutine shardgate starts has an owner and a way to
// stop (STYLE.md), and this is where the tests hold that to account.
//
// A check takes a Snapshot of the goroutines alive before the tests and,
// once they are over, waits a little for every goroutine started since to
// end; those still alive are reported with their stacks. A package whose
// tests legitimately leave something running says so with Ignore, next to
// the reason.
//
// It is imported only by tests (TestMain and test helpers). It imports
// nothing of ours and starts no goroutine of its own.
package leakcheck
