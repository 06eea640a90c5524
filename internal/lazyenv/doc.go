// Package lazyenv holds a test environment that a package's integration
// tests share (a local cluster, an embedded etcd) and that starts only when
// the first of them asks for it, so a run of the package's unit tests alone
// (`go test -run TestPureThing`, or `-short`) starts no process.
//
// TestMain runs the tests through Main, which stops the environment if it
// was started, says under -v whether and by which test, and checks for
// leaked goroutines. It is imported only by tests and test helpers; it
// imports nothing of ours but leakcheck.
package lazyenv
