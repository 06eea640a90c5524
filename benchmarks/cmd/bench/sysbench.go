package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// workload is one sysbench test at a thread count and prepared-statement
// mode.
type workload struct {
	test    string // oltp_point_select, oltp_read_only, oltp_read_write
	threads int
	psMode  string // disable (text protocol) or auto (prepared statements)
}

func (w workload) id() string {
	ps := "text"
	if w.psMode != "disable" {
		ps = "ps"
	}
	return fmt.Sprintf("%s/%dt/%s", strings.TrimPrefix(w.test, "oltp_"), w.threads, ps)
}

// allWorkloads are the issue's: point selects and read-only at 1 and 4
// threads, read-write at 4, each over the text protocol and with prepared
// statements.
func allWorkloads() []workload {
	var ws []workload
	for _, ps := range []string{"disable", "auto"} {
		ws = append(ws,
			workload{"oltp_point_select", 1, ps},
			workload{"oltp_point_select", 4, ps},
			workload{"oltp_read_only", 1, ps},
			workload{"oltp_read_only", 4, ps},
			workload{"oltp_read_write", 4, ps},
		)
	}
	return ws
}

func selectWorkloads(list string) ([]workload, error) {
	all := allWorkloads()
	if list == "" {
		return all, nil
	}
	var out []workload
	for _, id := range strings.Split(list, ",") {
		found := false
		for _, w := range all {
			if w.id() == strings.TrimSpace(id) {
				out = append(out, w)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown workload %q (try -list)", id)
		}
	}
	return out, nil
}

// target is where a leg's sysbench connects.
type target struct {
	addr string
	db   string
}

// commonArgs are the sysbench options every leg shares. The sharded
// keyspace has no auto-increment (ids come from the client: sequences are
// not what is measured), and DISTINCT range queries are off for every leg
// (the planner refuses SELECT DISTINCT ... ORDER BY across shards), so
// all legs run the same statements.
func commonArgs(t target, tableSize int) []string {
	host, port, _ := strings.Cut(t.addr, ":")
	if i := strings.LastIndexByte(t.addr, ':'); i >= 0 {
		host, port = t.addr[:i], t.addr[i+1:]
	}
	return []string{
		"--db-driver=mysql",
		"--mysql-host=" + host,
		"--mysql-port=" + port,
		"--mysql-user=root",
		"--mysql-password=",
		"--mysql-db=" + t.db,
		"--tables=1",
		"--table-size=" + strconv.Itoa(tableSize),
		"--auto_inc=off",
		"--distinct_ranges=0",
	}
}

// sysbenchPrepare creates and fills sbtest1.
func sysbenchPrepare(ctx context.Context, t target, tableSize int) error {
	args := append([]string{"oltp_common"}, commonArgs(t, tableSize)...)
	args = append(args, "prepare")
	out, err := exec.CommandContext(ctx, "sysbench", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sysbench prepare on %s/%s: %w\n%s", t.addr, t.db, err, out)
	}
	return nil
}

// sbResult is what one sysbench run reports.
type sbResult struct {
	Queries      int64   `json:"queries"`
	Transactions int64   `json:"transactions"`
	QPS          float64 `json:"qps"`
	TPS          float64 `json:"tps"`
	Errors       int64   `json:"ignored_errors"`
	// P50us and P99us are event latencies (an event is one query for
	// point selects, one transaction for read-only and read-write), from
	// sysbench's histogram.
	P50us float64 `json:"p50_us"`
	P99us float64 `json:"p99_us"`
	AvgUs float64 `json:"avg_us"`
}

func sysbenchRun(ctx context.Context, w workload, t target, tableSize int, d time.Duration) (sbResult, error) {
	args := append([]string{w.test}, commonArgs(t, tableSize)...)
	args = append(args,
		"--threads="+strconv.Itoa(w.threads),
		"--time="+strconv.Itoa(int(d.Seconds())),
		"--db-ps-mode="+w.psMode,
		"--histogram=on",
		"--percentile=99",
		"--report-interval=0",
		"run")
	out, err := exec.CommandContext(ctx, "sysbench", args...).CombinedOutput()
	if err != nil {
		return sbResult{}, fmt.Errorf("sysbench %s on %s/%s: %w\n%s", w.id(), t.addr, t.db, err, tail(out, 2000))
	}
	return parseSysbench(out)
}

var (
	reCount   = regexp.MustCompile(`^\s*(queries|transactions|ignored errors):\s+(\d+)\s+\(([\d.]+) per sec\.\)`)
	reAvg     = regexp.MustCompile(`^\s*avg:\s+([\d.]+)`)
	reBucket  = regexp.MustCompile(`^\s*([\d.]+)\s+\|\**\s+(\d+)\s*$`)
	reLatency = regexp.MustCompile(`^Latency \(ms\):`)
)

// parseSysbench reads sysbench 1.0's report: the histogram (value in ms,
// count per bucket), the SQL statistics and the latency summary.
func parseSysbench(out []byte) (sbResult, error) {
	var r sbResult
	type bucket struct {
		ms float64
		n  int64
	}
	var hist []bucket
	inLatency := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := reBucket.FindStringSubmatch(line); m != nil {
			ms, _ := strconv.ParseFloat(m[1], 64)
			n, _ := strconv.ParseInt(m[2], 10, 64)
			hist = append(hist, bucket{ms, n})
			continue
		}
		if m := reCount.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseInt(m[2], 10, 64)
			rate, _ := strconv.ParseFloat(m[3], 64)
			switch m[1] {
			case "queries":
				r.Queries, r.QPS = n, rate
			case "transactions":
				r.Transactions, r.TPS = n, rate
			case "ignored errors":
				r.Errors = n
			}
			continue
		}
		if reLatency.MatchString(line) {
			inLatency = true
			continue
		}
		if m := reAvg.FindStringSubmatch(line); m != nil && inLatency {
			v, _ := strconv.ParseFloat(m[1], 64)
			r.AvgUs = v * 1000
		}
	}
	if r.Queries == 0 || len(hist) == 0 {
		return r, fmt.Errorf("cannot read sysbench's report:\n%s", tail(out, 2000))
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].ms < hist[j].ms })
	var total int64
	for _, b := range hist {
		total += b.n
	}
	pct := func(p float64) float64 {
		want := int64(float64(total)*p + 0.5)
		var seen int64
		for _, b := range hist {
			seen += b.n
			if seen >= want {
				return b.ms * 1000
			}
		}
		return hist[len(hist)-1].ms * 1000
	}
	r.P50us, r.P99us = pct(0.50), pct(0.99)
	return r, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// sysbenchSplit runs w's threads as two sysbench processes side by side,
// half against t1 and half against t2 (leg G: two gateways), and adds
// their counts up. Latency percentiles are the two runs' mean (p50) and
// the larger (p99).
func sysbenchSplit(ctx context.Context, w workload, t1, t2 target, tableSize int, d time.Duration) (sbResult, error) {
	half := w
	half.threads = w.threads / 2
	type out struct {
		r   sbResult
		err error
	}
	second := make(chan out, 1)
	go func() {
		r, err := sysbenchRun(ctx, half, t2, tableSize, d)
		second <- out{r, err}
	}()
	a, errA := sysbenchRun(ctx, half, t1, tableSize, d)
	b := <-second
	if errA != nil {
		return sbResult{}, errA
	}
	if b.err != nil {
		return sbResult{}, b.err
	}
	return mergeSysbench(a, b.r), nil
}

// mergeSysbench adds up two simultaneous runs.
func mergeSysbench(a, b sbResult) sbResult {
	r := sbResult{
		Queries: a.Queries + b.Queries, Transactions: a.Transactions + b.Transactions,
		QPS: a.QPS + b.QPS, TPS: a.TPS + b.TPS, Errors: a.Errors + b.Errors,
		P50us: (a.P50us + b.P50us) / 2, P99us: max(a.P99us, b.P99us),
	}
	if n := a.Transactions + b.Transactions; n > 0 {
		r.AvgUs = (a.AvgUs*float64(a.Transactions) + b.AvgUs*float64(b.Transactions)) / float64(n)
	}
	return r
}
