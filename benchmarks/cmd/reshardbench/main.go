// Command reshardbench measures online resharding (`make bench` runs it
// after the sysbench legs): it starts a local cluster (keyspace bench_r
// on two shards, -80 and 80-, a hash vindex), a gateway and a resharding
// controller in this process, loads a table of -rows rows (1,000,000 by
// default) straight into the source shards, then splits them into four
// (-40, 40-80, 80-c0, c0-) while a writer inserts, updates and deletes
// rows through the gateway at a steady rate, and reports:
//
//   - the copy rate in rows/s (the workflow's copy_rows_per_second, what
//     `shardctl reshard status` shows, and the wall time from create to
//     the end of the copy);
//   - the writer's latency while the copy ran (what the copy costs the
//     application);
//   - how long catch-up took to bring the lag under a second;
//   - three write switches under the writer (to the targets, back with
//     reverse-traffic, to the targets again): the workflow's hold of the
//     keyspace's writes and the writer's longest statement.
//
// Targets (issue 12), reported, not asserted: copy >= 100,000 rows/s and
// a write stall <= 500 ms on a 2-core machine. Every number comes from
// one run on a shared machine; the copy rate is also given over the
// rate at which the same servers took the load in the same run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	rows      int
	chunkRows int
	writeRate int
	keep      bool
	verbose   bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reshardbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.rows, "rows", 1_000_000, "rows in the table that is resharded")
	fs.IntVar(&o.chunkRows, "chunk-rows", 0, "rows per copy chunk (0: the controller's default, as --reshard-copy-chunk-rows)")
	fs.IntVar(&o.writeRate, "write-rate", 200, "the writer's statements per second through the gateway during the workflow")
	fs.BoolVar(&o.keep, "keep", false, "keep the cluster's temporary directory")
	fs.BoolVar(&o.verbose, "v", false, "log the cluster's and controller's messages")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.rows < 1 || o.writeRate < 1 {
		fmt.Fprintln(stderr, "reshardbench: -rows and -write-rate must be positive")
		return 2
	}
	start := time.Now()
	rep, err := benchmark(ctx, o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "reshardbench:", err)
		return 1
	}
	rep.print(stdout)
	fmt.Fprintf(stdout, "reshardbench: done in %v\n", time.Since(start).Round(time.Second))
	return 0
}
