package main

import (
	"flag"
	"time"

	"github.com/shardgate/shardgate/gateway"
)

// bufferFlags configure the gateway's query buffer (gateway/buffer.go):
// statements for a shard with no serving primary (failover, planned
// reparent, a hold) wait for one, within bounds.
type bufferFlags struct {
	window time.Duration
	max    int
}

func (f *bufferFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.window, "buffer-window", gateway.DefaultBufferWindow, "longest a statement waits for a shard with no serving primary (failover, reparent) to get one; it then fails with retryable error 1105")
	fs.IntVar(&f.max, "buffer-max-statements", gateway.DefaultBufferMaxStatements, "most statements the gateway holds waiting for a primary; more fail at once with retryable error 1105")
}

func (f *bufferFlags) apply(cfg *gateway.Config) {
	cfg.BufferWindow = f.window
	cfg.BufferMaxStatements = f.max
}
