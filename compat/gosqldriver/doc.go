// Package gosqldriver runs go-sql-driver/mysql's own test suite against the
// gateway and against MariaDB directly (suite_test.go). It is a package of
// its own so that the suite's load runs in a test process of its own: the
// compat package's memory tests measure their process's heap.
package gosqldriver
