// Command shardgate runs the gateway: `shardgate serve` against an existing
// topology, or `shardgate up` for a whole local cluster (embedded etcd, one
// mariadbd per shard instance, demo keyspaces, the gateway on :15306).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: shardgate <command> [flags]

commands:
  serve   run a gateway against an existing topology (etcd)
  up      start a local cluster (embedded etcd, mariadbd shards, demo
          keyspaces) and a gateway on 127.0.0.1:15306; Ctrl-C stops it all

'shardgate <command> -h' lists a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	commands := map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"serve": serve,
		"up":    up,
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "shardgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	return cmd(ctx, args[1:], stdout, stderr)
}
