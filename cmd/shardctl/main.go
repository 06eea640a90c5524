// Command shardctl is shardgate's operator CLI: it defines keyspaces,
// shards and vschemas in the topology and shows what is there.
//
//	shardctl [--topo-endpoints 127.0.0.1:2379] [--topo-root /shardgate] <group> <command> [flags] [args]
//
// Run "shardctl help" for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
