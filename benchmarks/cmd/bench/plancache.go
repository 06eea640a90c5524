package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// planCacheReport is issue 17's plan-cache target: 16 sessions hitting
// cached plans at once (gateway's BenchmarkPlanCacheHitParallel) and the
// lock contention a mutex profile sees in the plan cache meanwhile. A hit
// path that took a lock every session shares would show there (and scale
// worse from 1 to 2 CPUs); none should.
type planCacheReport struct {
	// NsPerOp is the benchmark's time per hit at -cpu 1 and -cpu N (the
	// machine's CPUs).
	NsPerOp1 float64 `json:"ns_per_hit_1cpu"`
	NsPerOpN float64 `json:"ns_per_hit_ncpu"`
	// ContentionMs is the mutex profile's delay in frames of the plan
	// cache (planCache), at -cpu N, in milliseconds.
	ContentionMs float64 `json:"plan_cache_mutex_delay_ms"`
	Err          string  `json:"error,omitempty"`
}

var nsPerOpRe = regexp.MustCompile(`^BenchmarkPlanCacheHitParallel(?:-(\d+))?\s+\d+\s+([\d.]+) ns/op`)

// planCacheScaling runs the benchmark in dir (the repository) with a mutex
// profile written to tmp.
func planCacheScaling(ctx context.Context, tmp string, cpus int) planCacheReport {
	var r planCacheReport
	prof := filepath.Join(tmp, "plancache-mutex.out")
	bin := filepath.Join(tmp, "gateway.test")
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkPlanCacheHitParallel$",
		"-benchtime", "2000000x", "-cpu", fmt.Sprintf("1,%d", cpus), "-mutexprofile", prof, "-mutexprofilefraction", "1",
		"-o", bin, "./gateway")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.Err = fmt.Sprintf("go test -bench PlanCacheHitParallel: %v\n%s", err, out)
		return r
	}
	for _, line := range strings.Split(string(out), "\n") {
		m := nsPerOpRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		if m[1] == "" || m[1] == "1" {
			r.NsPerOp1 = ns
		} else {
			r.NsPerOpN = ns
		}
	}
	if cpus == 1 {
		r.NsPerOpN = r.NsPerOp1
	}
	// -top with the delay in seconds per function: any line naming the
	// plan cache is contention in it (cumulative, so callers count too).
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-unit", "ms", "-sample_index", "delay", bin, prof).CombinedOutput()
	if err != nil {
		r.Err = fmt.Sprintf("go tool pprof: %v\n%s", err, top)
		return r
	}
	r.ContentionMs = planCacheDelay(top)
	os.Remove(bin)
	return r
}

// planCacheDelay is the largest cumulative delay (ms) of a pprof -top
// line whose function is the plan cache's.
func planCacheDelay(top []byte) float64 {
	var worst float64
	for _, line := range bytes.Split(top, []byte("\n")) {
		f := strings.Fields(string(line))
		// flat flat% sum% cum cum% name
		if len(f) < 6 || !strings.Contains(f[5], "planCache") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSuffix(f[3], "ms"), 64); err == nil {
			worst = max(worst, v)
		}
	}
	return worst
}
