package main

import (
	"os"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: `up` and `serve`
// run in-process here, and everything they start (gateway, controller,
// local cluster, embedded etcd) must stop with their context.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m.Run)) }
