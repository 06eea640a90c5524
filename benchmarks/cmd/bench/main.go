// Command bench is shardgate's sysbench harness (`make bench`). It starts
// a local cluster in a temporary directory (keyspace bench_u unsharded,
// bench_s with 2 shards and a hash vindex, no replicas), the gateway as a
// separate process (so its CPU time can be read from /proc), and a
// byte-copying TCP relay in front of bench_u's mariadbd, then runs sysbench
// legs interleaved, round after round:
//
//	A  sysbench → mariadbd (bench_u)                 direct
//	B  sysbench → relay → mariadbd (bench_u)         one extra hop
//	C  sysbench → gateway → 2 shards (bench_s)       routed by the vindex
//	D  sysbench → gateway → mariadbd (bench_u)       pass-through
//	E  sysbench → `shardgate up` → its 4 shards: the cluster `make up`
//	   gives a newcomer (replicas, etcd and controllers included)
//	F  as C, through a second gateway started with --no-metrics: C/F is
//	   what the metrics and query digests cost
//	G  as C, with sysbench's threads split between two gateways side by
//	   side: G/C is how throughput grows with gateways
//
// It prints the load average before it starts and at the end, measures
// how much CPU other processes took during the legs (others_cpu.go), and
// writes no JSON when the load average before it was 1 or more (it waits
// up to -quiet-wait for it to drop under 1 first, quietwait.go) or others
// took more than a tenth of a core (a busy machine's numbers are not
// published).
//
// It prints one table of ratios and writes it, with every leg's raw
// numbers, as JSON under benchmarks/results/. Performance claims are ratios
// of legs measured in the same run: the machine is shared.
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

// options are the harness's flags.
type options struct {
	legTime   time.Duration
	warmup    time.Duration
	rounds    int
	tableSize int
	outDir    string
	keepDir   bool
	workloads string
	legs      string
	gwArgs    string
	upArgs    string
	planCache bool
	quietWait time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.legTime, "leg-time", 3*time.Second, "sysbench --time of each leg (whole seconds)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "one untimed point-select run per leg before the first round")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; every leg of every workload runs once per round")
	fs.IntVar(&o.tableSize, "table-size", 10000, "rows in sbtest1")
	fs.StringVar(&o.outDir, "out", "benchmarks/results", "directory for the JSON result (empty: none)")
	fs.BoolVar(&o.keepDir, "keep", false, "keep the cluster's temporary directory")
	fs.StringVar(&o.workloads, "workloads", "", "comma-separated workload ids to run (default all; see -list)")
	fs.StringVar(&o.legs, "legs", "ABCDEFG", "legs to run")
	fs.StringVar(&o.gwArgs, "gateway-args", "", "extra flags for shardgate serve (space-separated)")
	fs.StringVar(&o.upArgs, "up-args", "", "extra flags for leg E's shardgate up (space-separated), e.g. '--replicas 0' to measure what one of its parts costs")
	fs.BoolVar(&o.planCache, "plan-cache", true, "also run the gateway's plan-cache benchmark under 16 sessions with a mutex profile (about a minute)")
	fs.DurationVar(&o.quietWait, "quiet-wait", 5*time.Minute, "before starting anything, wait up to this long for the one-minute load average to drop under 1 (0: don't wait); a run that starts at 1 or above is not published")
	list := fs.Bool("list", false, "list the workloads and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *list {
		for _, w := range allWorkloads() {
			fmt.Fprintln(stdout, w.id())
		}
		return 0
	}
	ws, err := selectWorkloads(o.workloads)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	rep, err := benchmark(ctx, o, ws, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	rep.print(stdout)
	if o.outDir != "" && !rep.quiet() {
		fmt.Fprintf(stdout, "not written to %s: the load average before the run was %.2f (under %.0f to publish) and other processes used %.2f CPUs during the legs (at most %.2f to publish), so the run measured other work too; run it on a quiet machine to publish it\n",
			o.outDir, rep.LoadStart, publishLoad, rep.OthersCPUs, maxOthersCPUs)
		return 0
	}
	if o.outDir != "" {
		path, err := rep.save(o.outDir)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		fmt.Fprintln(stdout, "wrote", path)
	}
	return 0
}
