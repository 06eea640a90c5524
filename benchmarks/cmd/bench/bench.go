package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// leg is one way sysbench reaches the data.
type leg struct {
	name    string // A to G
	what    string
	target  target
	gateway bool  // the statements pass through the gateway
	dbPids  []int // the mariadbds that serve it
	// gw is the gateway process it measures (legs A and B: the main one,
	// idle).
	gw *gatewayProc
	// split, when set, is a second gateway: sysbench's threads are split
	// between gw (target) and it (target2), two sysbench processes side
	// by side, and their QPS added (leg G).
	split   *gatewayProc
	target2 target
	// minThreads: workloads with fewer threads skip the leg (a split
	// needs two).
	minThreads int
	// onlyTest, when set, is the one sysbench test the leg runs (legs F
	// and G: their ratios are point-select targets; running them for
	// every workload would push make bench past 20 minutes).
	onlyTest string
}

// runs tells whether the leg runs workload w.
func (l leg) runs(w workload) bool {
	return w.threads >= l.minThreads && (l.onlyTest == "" || l.onlyTest == w.test)
}

// legRun is one leg of one workload in one round.
type legRun struct {
	Round int `json:"round"`
	sbResult
	GatewayCPUs float64 `json:"gateway_cpu_s,omitempty"`
	// RelayCPUs is the relay's CPU time in leg B (it runs in this
	// process, which does nothing else meanwhile): the cost of a hop
	// that only copies bytes.
	RelayCPUs   float64 `json:"relay_cpu_s,omitempty"`
	MariadbCPUs float64 `json:"mariadb_cpu_s"`
	// GatewayMallocs is the change of go_memstats_mallocs_total.
	GatewayMallocs float64 `json:"gateway_mallocs,omitempty"`
	// Gateway memory after the leg.
	GatewayHeapInuse float64 `json:"gateway_heap_inuse_bytes,omitempty"`
	GatewayRSS       int64   `json:"gateway_rss_bytes,omitempty"`
	Err              string  `json:"error,omitempty"`
}

func benchmark(ctx context.Context, o options, ws []workload, log io.Writer) (*report, error) {
	start := time.Now()
	// Before this run starts anything: what the machine was doing. A
	// busy machine gets a few minutes to calm down first.
	loadBefore, err := waitForQuiet(ctx, quietWait{max: o.quietWait, every: 10 * time.Second, load: loadAverage, sleep: sleepCtx}, log)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "bench: load average before starting %.2f\n", loadBefore)
	e, err := startEnv(ctx, o, log)
	if err != nil {
		return nil, err
	}
	defer e.close()

	directPid, err := mysqldPid(e.direct)
	if err != nil {
		return nil, err
	}
	var shardPids []int
	for _, in := range e.shards {
		pid, err := mysqldPid(in)
		if err != nil {
			return nil, err
		}
		shardPids = append(shardPids, pid)
	}
	all := []leg{
		{name: "A", what: "sysbench → mariadbd", target: target{e.direct.Mysqld.Addr(), ksUnsharded}, dbPids: []int{directPid}},
		{name: "B", what: "sysbench → relay → mariadbd", target: target{e.relay.addr(), ksUnsharded}, dbPids: []int{directPid}},
		{name: "C", what: "sysbench → gateway → 2 shards", target: target{e.gw.addr, ksSharded}, gateway: true, dbPids: shardPids},
		{name: "D", what: "sysbench → gateway → unsharded", target: target{e.gw.addr, ksUnsharded}, gateway: true, dbPids: []int{directPid}},
	}
	if e.up != nil {
		upPids, err := e.upPids()
		if err != nil {
			return nil, err
		}
		all = append(all, leg{name: "E", what: "sysbench → `shardgate up` (as make up: 4 shards + replicas, etcd and controllers in-process)", target: target{e.up.addr, ksUp}, gateway: true, dbPids: upPids, gw: e.up})
	}
	if e.gwOff != nil {
		all = append(all, leg{name: "F", what: "sysbench → gateway --no-metrics → 2 shards", target: target{e.gwOff.addr, ksSharded}, gateway: true, dbPids: shardPids, gw: e.gwOff, onlyTest: "oltp_point_select"})
	}
	if e.gw2 != nil {
		all = append(all, leg{name: "G", what: "2 sysbench → 2 gateways side by side (threads split) → 2 shards", target: target{e.gw.addr, ksSharded},
			gateway: true, dbPids: shardPids, split: e.gw2, target2: target{e.gw2.addr, ksSharded}, minThreads: 2, onlyTest: "oltp_point_select"})
	}
	for i := range all {
		if all[i].gw == nil {
			all[i].gw = e.gw
		}
	}
	var legs []leg
	for _, l := range all {
		if strings.Contains(o.legs, l.name) {
			legs = append(legs, l)
		}
	}

	for _, l := range all {
		fmt.Fprintf(log, "bench: leg %s at %s/%s (%s)\n", l.name, l.target.addr, l.target.db, l.what)
	}
	fmt.Fprintf(log, "bench: preparing %d rows in %s (direct) and %s (through the gateway)\n", o.tableSize, ksUnsharded, ksSharded)
	if err := sysbenchPrepare(ctx, all[0].target, o.tableSize); err != nil {
		return nil, err
	}
	if err := sysbenchPrepare(ctx, all[2].target, o.tableSize); err != nil {
		return nil, err
	}
	if e.up != nil {
		fmt.Fprintf(log, "bench: preparing %d rows in %s through `shardgate up`\n", o.tableSize, ksUp)
		if err := sysbenchPrepare(ctx, target{e.up.addr, ksUp}, o.tableSize); err != nil {
			return nil, err
		}
	}
	if o.warmup > 0 {
		fmt.Fprintln(log, "bench: warming up every leg")
		for _, l := range legs {
			w := workload{"oltp_read_only", 4, "disable"}
			if _, err := sysbenchRun(ctx, w, l.target, o.tableSize, o.warmup); err != nil {
				return nil, fmt.Errorf("warm-up of leg %s: %w", l.name, err)
			}
			if l.split == nil {
				continue
			}
			if _, err := sysbenchRun(ctx, w, l.target2, o.tableSize, o.warmup); err != nil {
				return nil, fmt.Errorf("warm-up of leg %s: %w", l.name, err)
			}
		}
	}

	rep := newReport(o, ws, legs)
	rep.LoadStart = loadBefore
	fmt.Fprintf(log, "bench: load average at the first leg %.2f (%d CPUs; the bench's own warm-up counts in it)\n", loadAverage(), rep.Machine.CPUs)
	before, err := sampleCPU()
	if err != nil {
		return nil, err
	}
	total := 0
	for _, w := range ws {
		for _, l := range legs {
			if l.runs(w) {
				total += o.rounds
			}
		}
	}
	n := 0
	for r := 0; r < o.rounds; r++ {
		for wi, w := range ws {
			for k := range legs {
				// Rotate the order so no leg always runs first (a cold
				// cache) or last.
				l := legs[(k+r+wi)%len(legs)]
				if !l.runs(w) {
					continue
				}
				n++
				fmt.Fprintf(log, "bench: [%d/%d] round %d %-22s leg %s ... ", n, total, r+1, w.id(), l.name)
				lr := runLeg(ctx, e, w, l, o)
				lr.Round = r + 1
				if lr.Err != "" {
					fmt.Fprintf(log, "FAILED: %s\n", firstLine(lr.Err))
				} else {
					fmt.Fprintf(log, "%8.0f qps  p50 %6.0f µs  p99 %6.0f µs%s\n", lr.QPS, lr.P50us, lr.P99us, lr.cpuPerQuery())
				}
				rep.add(w, l, lr)
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
			}
		}
		mem, err := gatewayMemory(ctx, e)
		if err != nil {
			return nil, err
		}
		rep.Memory.Rounds = append(rep.Memory.Rounds, mem)
	}
	rep.LoadEnd = loadAverage()
	after, err := sampleCPU()
	if err != nil {
		return nil, err
	}
	rep.OthersCPUs = othersCPUs(before, after)
	fmt.Fprintf(log, "bench: load average at the end %.2f (with the bench's own work); other processes used %.2f CPUs on average during the legs\n", rep.LoadEnd, rep.OthersCPUs)
	if o.planCache {
		// After the load average: it is its own measurement (a mutex
		// profile), not a leg sharing the machine with sysbench.
		fmt.Fprintln(log, "bench: plan cache hit under 16 sessions (go test -bench PlanCacheHitParallel -mutexprofile)")
		rep.PlanCache = planCacheScaling(ctx, e.dir, rep.Machine.CPUs)
	}
	rep.finish(time.Since(start))
	return rep, nil
}

// runLeg runs sysbench once and measures CPU and allocations around it.
func runLeg(ctx context.Context, e *env, w workload, l leg, o options) legRun {
	var lr legRun
	fail := func(err error) legRun { lr.Err = err.Error(); return lr }
	gws := []*gatewayProc{l.gw}
	if l.split != nil {
		gws = append(gws, l.split)
	}
	gw0, m0, err := gatewaysCPUAndMallocs(ctx, gws)
	if err != nil {
		return fail(err)
	}
	db0, err := sumCPU(l.dbPids)
	if err != nil {
		return fail(err)
	}
	self0, err := cpuSeconds(os.Getpid())
	if err != nil {
		return fail(err)
	}
	var res sbResult
	if l.split != nil {
		res, err = sysbenchSplit(ctx, w, l.target, l.target2, o.tableSize, o.legTime)
	} else {
		res, err = sysbenchRun(ctx, w, l.target, o.tableSize, o.legTime)
	}
	if err != nil {
		return fail(err)
	}
	self1, err := cpuSeconds(os.Getpid())
	if err != nil {
		return fail(err)
	}
	if l.name == "B" {
		lr.RelayCPUs = self1 - self0
	}
	lr.sbResult = res
	gw1, m1, err := gatewaysCPUAndMallocs(ctx, gws)
	if err != nil {
		return fail(err)
	}
	db1, err := sumCPU(l.dbPids)
	if err != nil {
		return fail(err)
	}
	lr.MariadbCPUs = db1 - db0
	if l.gateway {
		lr.GatewayCPUs = gw1 - gw0
		lr.GatewayMallocs = m1 - m0
		heap, err := scrape(ctx, l.gw.status, "go_memstats_heap_inuse_bytes")
		if err != nil {
			return fail(err)
		}
		lr.GatewayHeapInuse = heap["go_memstats_heap_inuse_bytes"]
		lr.GatewayRSS, _ = rssBytes(l.gw.pid())
	}
	return lr
}

// cpuPerQuery is the run's CPU microseconds per query of the gateway
// (leg E: the whole `shardgate up` process) and of the serving mariadbds,
// for the progress lines: where a slow leg spends its time.
func (lr legRun) cpuPerQuery() string {
	if lr.Queries == 0 {
		return ""
	}
	q := float64(lr.Queries) / 1e6
	s := fmt.Sprintf("  cpu/query: mariadbd %4.0f µs", lr.MariadbCPUs/q)
	if lr.GatewayCPUs > 0 {
		s += fmt.Sprintf(", gateway %4.0f µs", lr.GatewayCPUs/q)
	}
	return s
}

// gatewaysCPUAndMallocs adds up the CPU seconds and the heap allocations
// (go_memstats_mallocs_total) of gateway processes.
func gatewaysCPUAndMallocs(ctx context.Context, gws []*gatewayProc) (cpu, mallocs float64, err error) {
	for _, g := range gws {
		c, err := cpuSeconds(g.pid())
		if err != nil {
			return 0, 0, err
		}
		m, err := scrape(ctx, g.status, "go_memstats_mallocs_total")
		if err != nil {
			return 0, 0, err
		}
		cpu += c
		mallocs += m["go_memstats_mallocs_total"]
	}
	return cpu, mallocs, nil
}

func sumCPU(pids []int) (float64, error) {
	var t float64
	for _, p := range pids {
		c, err := cpuSeconds(p)
		if err != nil {
			return 0, err
		}
		t += c
	}
	return t, nil
}

// memSample is the gateway's memory at one moment.
type memSample struct {
	HeapInuse float64 `json:"live_heap_bytes"`
	RSS       int64   `json:"rss_bytes"`
}

// gatewayMemory is the gateway's live heap: a heap profile request with
// gc=1 collects garbage first, so the number does not depend on when the
// last collection happened.
func gatewayMemory(ctx context.Context, e *env) (memSample, error) {
	if err := collectGarbage(ctx, e.gw.status); err != nil {
		return memSample{}, err
	}
	m, err := scrape(ctx, e.gw.status, "go_memstats_heap_alloc_bytes")
	if err != nil {
		return memSample{}, err
	}
	rss, err := rssBytes(e.gw.pid())
	return memSample{HeapInuse: m["go_memstats_heap_alloc_bytes"], RSS: rss}, err
}

// firstLine is the first line of an error, with sysbench's first FATAL
// line if it printed one.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "FATAL: ") {
			return first + ": " + line
		}
	}
	return first
}
