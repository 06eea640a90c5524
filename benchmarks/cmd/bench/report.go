package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// report is the run's outcome: printed as a table, saved as JSON.
type report struct {
	Date      string            `json:"date"`
	Machine   machine           `json:"machine"`
	Config    map[string]any    `json:"config"`
	DurationS float64           `json:"duration_s"`
	Legs      map[string]string `json:"legs"`
	Workloads []*workloadReport `json:"workloads"`
	Memory    memoryReport      `json:"gateway_memory"`
	PlanCache planCacheReport   `json:"plan_cache_16_sessions"`
	Targets   []targetCheck     `json:"targets"`
	// LoadStart is the one-minute load average before the run started
	// anything, LoadEnd after the last leg (it includes the bench's own
	// sysbench, mariadbds and gateways, so it is shown, not judged).
	// OthersCPUs is how many CPUs processes outside the bench kept busy
	// on average during the legs (others_cpu.go). A run that started at
	// a load average of publishLoad or more or shared the machine with
	// more than maxOthersCPUs measured other people's work too: not
	// published.
	LoadStart  float64 `json:"load_average_start"`
	LoadEnd    float64 `json:"load_average_end"`
	OthersCPUs float64 `json:"others_cpus"`

	byID map[string]*workloadReport
}

type machine struct {
	Hostname string `json:"hostname"`
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	Kernel   string `json:"kernel"`
	Go       string `json:"go"`
	Sysbench string `json:"sysbench"`
}

type workloadReport struct {
	ID      string                `json:"id"`
	Test    string                `json:"test"`
	Threads int                   `json:"threads"`
	PSMode  string                `json:"db_ps_mode"`
	Legs    map[string]*legReport `json:"legs"`
	Ratios  ratios                `json:"ratios"`
}

// legReport summarises a leg's rounds: medians, and the spread of QPS.
type legReport struct {
	Runs   []legRun `json:"runs"`
	QPS    float64  `json:"qps_median"`
	QPSMin float64  `json:"qps_min"`
	QPSMax float64  `json:"qps_max"`
	P50us  float64  `json:"p50_us_median"`
	P99us  float64  `json:"p99_us_median"`
	// Per query, over all rounds: CPU microseconds and allocations.
	GatewayCPUus   float64 `json:"gateway_cpu_us_per_query,omitempty"`
	RelayCPUus     float64 `json:"relay_cpu_us_per_query,omitempty"`
	MariadbCPUus   float64 `json:"mariadb_cpu_us_per_query"`
	GatewayAllocsQ float64 `json:"gateway_allocs_per_query,omitempty"`
	Failed         int     `json:"failed_runs,omitempty"`
	// Errors sysbench ignored (deadlocks, lock wait timeouts), all rounds.
	Errors int64 `json:"ignored_errors,omitempty"`
}

// ratios compare legs of one workload. Nil when a leg is missing.
type ratios struct {
	CA *float64 `json:"C_over_A,omitempty"`
	CB *float64 `json:"C_over_B,omitempty"`
	DA *float64 `json:"D_over_A,omitempty"`
	// CF is the QPS with metrics on over the QPS with them off (leg F).
	CF *float64 `json:"C_over_F,omitempty"`
	// EC is `shardgate up`'s cluster (leg E) over the bench's (leg C).
	EC *float64 `json:"E_over_C,omitempty"`
	// GC is two gateways side by side (leg G) over one (leg C).
	GC *float64 `json:"G_over_C,omitempty"`
	// Added latency over leg A at p50 and p99, microseconds.
	AddedP50C *float64 `json:"added_p50_us_C,omitempty"`
	AddedP99C *float64 `json:"added_p99_us_C,omitempty"`
	AddedP50D *float64 `json:"added_p50_us_D,omitempty"`
	AddedP99D *float64 `json:"added_p99_us_D,omitempty"`
	AddedP50B *float64 `json:"added_p50_us_B,omitempty"`
	// Gateway CPU per query over the serving mariadbds' CPU per query.
	GwCPUvsDBC *float64 `json:"gateway_cpu_vs_mariadb_C,omitempty"`
	GwCPUvsDBD *float64 `json:"gateway_cpu_vs_mariadb_D,omitempty"`
	// The relay's CPU per query over mariadbd's, leg B: what a hop that
	// only copies bytes costs, the floor under the gateway's.
	RelayCPUvsDBB *float64 `json:"relay_cpu_vs_mariadb_B,omitempty"`
}

// memoryReport is the gateway's live heap (after a forced garbage
// collection) and RSS after each round. Growth compares the last round
// with the first, once pools and the plan cache have filled.
type memoryReport struct {
	Rounds        []memSample `json:"after_each_round"`
	Start         memSample   `json:"after_first_round"`
	End           memSample   `json:"after_last_round"`
	HeapGrowthPct float64     `json:"heap_growth_pct"`
}

type targetCheck struct {
	Target string  `json:"target"`
	Value  float64 `json:"value"`
	Met    bool    `json:"met"`
}

func newReport(o options, ws []workload, legs []leg) *report {
	r := &report{
		Date:    time.Now().UTC().Format(time.RFC3339),
		Machine: machineInfo(),
		Config: map[string]any{
			"leg_time_s": o.legTime.Seconds(), "warmup_s": o.warmup.Seconds(), "rounds": o.rounds,
			"table_size": o.tableSize, "gateway_args": o.gwArgs, "up_args": o.upArgs,
			"sysbench_common": "--tables=1 --auto_inc=off --distinct_ranges=0 --histogram=on --percentile=99",
		},
		Legs: map[string]string{},
		byID: map[string]*workloadReport{},
	}
	for _, l := range legs {
		r.Legs[l.name] = l.what
	}
	for _, w := range ws {
		wr := &workloadReport{ID: w.id(), Test: w.test, Threads: w.threads, PSMode: w.psMode, Legs: map[string]*legReport{}}
		r.Workloads = append(r.Workloads, wr)
		r.byID[wr.ID] = wr
	}
	return r
}

func (r *report) add(w workload, l leg, lr legRun) {
	wr := r.byID[w.id()]
	lp := wr.Legs[l.name]
	if lp == nil {
		lp = &legReport{}
		wr.Legs[l.name] = lp
	}
	lp.Runs = append(lp.Runs, lr)
}

func (r *report) finish(d time.Duration) {
	r.DurationS = d.Seconds()
	for _, wr := range r.Workloads {
		for _, lp := range wr.Legs {
			lp.summarise()
		}
		wr.Ratios = wr.ratios()
	}
	if n := len(r.Memory.Rounds); n > 0 {
		r.Memory.Start, r.Memory.End = r.Memory.Rounds[0], r.Memory.Rounds[n-1]
	}
	if r.Memory.Start.HeapInuse > 0 {
		r.Memory.HeapGrowthPct = 100 * (r.Memory.End.HeapInuse - r.Memory.Start.HeapInuse) / r.Memory.Start.HeapInuse
	}
	r.Targets = r.checkTargets()
}

func (lp *legReport) summarise() {
	var qps, p50, p99 []float64
	var queries, gwCPU, relayCPU, dbCPU, mallocs float64
	for _, run := range lp.Runs {
		if run.Err != "" {
			lp.Failed++
			continue
		}
		qps = append(qps, run.QPS)
		p50 = append(p50, run.P50us)
		p99 = append(p99, run.P99us)
		queries += float64(run.Queries)
		lp.Errors += run.Errors
		gwCPU += run.GatewayCPUs
		relayCPU += run.RelayCPUs
		dbCPU += run.MariadbCPUs
		mallocs += run.GatewayMallocs
	}
	if len(qps) == 0 {
		return
	}
	lp.QPS, lp.QPSMin, lp.QPSMax = median(qps), slicesMin(qps), slicesMax(qps)
	lp.P50us, lp.P99us = median(p50), median(p99)
	lp.GatewayCPUus = 1e6 * gwCPU / queries
	lp.RelayCPUus = 1e6 * relayCPU / queries
	lp.MariadbCPUus = 1e6 * dbCPU / queries
	lp.GatewayAllocsQ = mallocs / queries
}

func (wr *workloadReport) ratios() ratios {
	get := func(name string) *legReport {
		if lp := wr.Legs[name]; lp != nil && lp.QPS > 0 {
			return lp
		}
		return nil
	}
	a, b, c, d, e, f, g := get("A"), get("B"), get("C"), get("D"), get("E"), get("F"), get("G")
	var out ratios
	div := func(x, y float64) *float64 {
		if y == 0 {
			return nil
		}
		v := x / y
		return &v
	}
	diff := func(x, y float64) *float64 { v := x - y; return &v }
	if c != nil && a != nil {
		out.CA = div(c.QPS, a.QPS)
		out.AddedP50C, out.AddedP99C = diff(c.P50us, a.P50us), diff(c.P99us, a.P99us)
	}
	if c != nil && b != nil {
		out.CB = div(c.QPS, b.QPS)
	}
	if c != nil && f != nil {
		out.CF = div(c.QPS, f.QPS)
	}
	if c != nil && e != nil {
		out.EC = div(e.QPS, c.QPS)
	}
	if c != nil && g != nil {
		out.GC = div(g.QPS, c.QPS)
	}
	if b != nil && a != nil {
		out.AddedP50B = diff(b.P50us, a.P50us)
	}
	if d != nil && a != nil {
		out.DA = div(d.QPS, a.QPS)
		out.AddedP50D, out.AddedP99D = diff(d.P50us, a.P50us), diff(d.P99us, a.P99us)
	}
	if c != nil {
		out.GwCPUvsDBC = div(c.GatewayCPUus, c.MariadbCPUus)
	}
	if d != nil {
		out.GwCPUvsDBD = div(d.GatewayCPUus, d.MariadbCPUus)
	}
	if b != nil {
		out.RelayCPUvsDBB = div(b.RelayCPUus, b.MariadbCPUus)
	}
	return out
}

// checkTargets reports the targets of issue 17 against this run.
func (r *report) checkTargets() []targetCheck {
	var out []targetCheck
	check := func(name string, v *float64, ok func(float64) bool) {
		if v != nil {
			out = append(out, targetCheck{Target: name, Value: round3(*v), Met: ok(*v)})
		}
	}
	for _, ps := range []string{"text", "ps"} {
		if wr := r.byID["point_select/4t/"+ps]; wr != nil {
			check("point_select/4t/"+ps+" C/B >= 0.90", wr.Ratios.CB, func(v float64) bool { return v >= 0.90 })
			check("point_select/4t/"+ps+" E/C >= 0.90 (make up's cluster)", wr.Ratios.EC, func(v float64) bool { return v >= 0.90 })
			b, c := wr.Legs["B"], wr.Legs["C"]
			if b != nil && c != nil && b.QPS > 0 && c.QPS > 0 && b.RelayCPUus > 0 {
				v := c.GatewayCPUus / b.RelayCPUus
				check("point_select/4t/"+ps+" gateway CPU/query <= relay's (C/B, x)", &v, func(v float64) bool { return v <= 1 })
			}
			if c != nil && c.QPS > 0 {
				v := c.GatewayAllocsQ
				check("point_select/4t/"+ps+" allocations/query <= 8 (C)", &v, func(v float64) bool { return v <= 8 })
			}
			check("point_select/4t/"+ps+" metrics on/off C/F >= 0.97", wr.Ratios.CF, func(v float64) bool { return v >= 0.97 })
		}
		if wr := r.byID["point_select/1t/"+ps]; wr != nil && wr.Ratios.AddedP50C != nil && wr.Ratios.AddedP50B != nil {
			v := *wr.Ratios.AddedP50C - *wr.Ratios.AddedP50B
			check("point_select/1t/"+ps+" p50 within 30 µs of the relay's (C-B, µs)", &v, func(v float64) bool { return v <= 30 })
		}
		for _, id := range []string{"read_only/4t/" + ps, "read_write/4t/" + ps} {
			if wr := r.byID[id]; wr != nil {
				check(id+" C/B >= 0.80", wr.Ratios.CB, func(v float64) bool { return v >= 0.80 })
			}
		}
	}
	if pc := r.PlanCache; pc.Err == "" && pc.NsPerOp1 > 0 {
		d := pc.ContentionMs
		check("plan cache hit, 16 sessions: no mutex delay in planCache (ms)", &d, func(v float64) bool { return v < 1 })
	}
	if r.Memory.Start.HeapInuse > 0 {
		g := r.Memory.HeapGrowthPct
		check("gateway live heap flat over the run (growth <= 10%)", &g, func(v float64) bool { return v <= 10 })
	}
	return out
}

// maxOthersCPUs is the most CPU other processes may have used, on
// average, during a run that is published: a tenth of a core.
const maxOthersCPUs = 0.1

// quiet tells whether the machine was idle enough for the run to be
// published: the load average before it under publishLoad, and other
// processes using at most maxOthersCPUs during the legs.
func (r *report) quiet() bool {
	return r.LoadStart >= 0 && r.LoadStart < publishLoad && r.OthersCPUs <= maxOthersCPUs
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nshardgate benchmark %s on %s (%d CPUs, %s), %.0f s\n", r.Date, r.Machine.Hostname, r.Machine.CPUs, r.Machine.CPUModel, r.DurationS)
	names := make([]string, 0, len(r.Legs))
	for n := range r.Legs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %s: %s\n", n, r.Legs[n])
	}
	fmt.Fprintf(w, "load average %.2f before the run, %.2f at the end (%d CPUs; the end includes the bench's own work); other processes used %.2f CPUs on average during the legs\n",
		r.LoadStart, r.LoadEnd, r.Machine.CPUs, r.OthersCPUs)
	fmt.Fprintf(w, "\n%-22s %8s %5s %5s %5s %5s %5s %5s %7s %7s %7s %7s %7s %6s %6s %6s %7s %7s\n",
		"workload", "A qps", "C/A", "C/B", "D/A", "E/C", "G/C", "C/F", "+p50 C", "+p99 C", "+p50 D", "+p99 D", "+p50 B", "cpu C", "cpu D", "cpu B", "allocC", "allocD")
	for _, wr := range r.Workloads {
		aq := 0.0
		if a := wr.Legs["A"]; a != nil {
			aq = a.QPS
		}
		rt := wr.Ratios
		fmt.Fprintf(w, "%-22s %8.0f %5s %5s %5s %5s %5s %5s %7s %7s %7s %7s %7s %6s %6s %6s %7s %7s\n", wr.ID, aq,
			f2(rt.CA), f2(rt.CB), f2(rt.DA), f2(rt.EC), f2(rt.GC), f2(rt.CF), f0(rt.AddedP50C), f0(rt.AddedP99C), f0(rt.AddedP50D), f0(rt.AddedP99D), f0(rt.AddedP50B),
			f2(rt.GwCPUvsDBC), f2(rt.GwCPUvsDBD), f2(rt.RelayCPUvsDBB), allocs(wr.Legs["C"]), allocs(wr.Legs["D"]))
	}
	fmt.Fprintln(w, "\nC/A, C/B, D/A: QPS ratios (medians of the rounds); E/C: make up's cluster over the bench's; G/C: two gateways over one")
	fmt.Fprintln(w, "(on this machine's CPUs, shared with sysbench and mariadbd); C/F: metrics on over off; +p50/+p99: added event latency over A in µs")
	fmt.Fprintln(w, "(+p50 B: what the relay alone adds);")
	fmt.Fprintln(w, "cpu C/D: gateway CPU per query / mariadbd CPU per query (cpu B: the same for the byte-copying relay);")
	fmt.Fprintln(w, "alloc: gateway allocations per query.")
	fmt.Fprintf(w, "\nQPS spread (min–max over rounds; errors: sysbench's ignored errors, e.g. 1205 lock wait timeouts):\n")
	for _, wr := range r.Workloads {
		fmt.Fprintf(w, "  %-22s", wr.ID)
		for _, n := range names {
			if lp := wr.Legs[n]; lp != nil && lp.QPS > 0 {
				errs := ""
				if lp.Errors > 0 {
					errs = fmt.Sprintf(" (%d errors)", lp.Errors)
				}
				fmt.Fprintf(w, "  %s %6.0f–%-6.0f%s", n, lp.QPSMin, lp.QPSMax, errs)
			} else if lp != nil && lp.Failed > 0 {
				fmt.Fprintf(w, "  %s %-13s", n, "FAILED")
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\ngateway memory after round 1 and round %d: live heap %.1f MiB → %.1f MiB (%+.1f%%), RSS %.1f MiB → %.1f MiB\n",
		len(r.Memory.Rounds), r.Memory.Start.HeapInuse/(1<<20), r.Memory.End.HeapInuse/(1<<20), r.Memory.HeapGrowthPct,
		float64(r.Memory.Start.RSS)/(1<<20), float64(r.Memory.End.RSS)/(1<<20))
	if pc := r.PlanCache; pc.Err != "" {
		fmt.Fprintf(w, "\nplan cache, 16 sessions: FAILED: %s\n", firstLine(pc.Err))
	} else if pc.NsPerOp1 > 0 {
		fmt.Fprintf(w, "\nplan cache hit, 16 sessions (gateway BenchmarkPlanCacheHitParallel): %.0f ns/hit at 1 CPU, %.0f ns/hit at %d; mutex delay in planCache %.1f ms\n",
			pc.NsPerOp1, pc.NsPerOpN, r.Machine.CPUs, pc.ContentionMs)
	}
	fmt.Fprintln(w, "\ntargets:")
	for _, t := range r.Targets {
		mark := "MISSED"
		if t.Met {
			mark = "met"
		}
		fmt.Fprintf(w, "  %-6s %-62s %8.3f\n", mark, t.Target, t.Value)
	}
}

func (r *report) save(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	t, _ := time.Parse(time.RFC3339, r.Date)
	path := filepath.Join(dir, t.Format("20060102-150405")+"-"+r.Machine.Hostname+".json")
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

func machineInfo() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.Hostname, _ = os.Hostname()
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := exec.Command("sysbench", "--version").Output(); err == nil {
		m.Sysbench = strings.TrimSpace(string(b))
	}
	return m
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func slicesMin(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func slicesMax(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

func f2(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}

func f0(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%+.0f", *v)
}

func allocs(lp *legReport) string {
	if lp == nil || lp.QPS == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", lp.GatewayAllocsQ)
}
