package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// What other work took of the machine while the legs ran: the CPU time
// the whole machine spent busy (/proc/stat) less what this process and
// everything it started spent (every live descendant's own time plus,
// through cutime/cstime, that of the children each has reaped: sysbench
// runs, `shardgate up`'s mariadbds). The one-minute load average cannot
// say it: four sysbench threads on two cores hold it near 4 by
// themselves, so at the end of any run it "exceeds the CPU count".

// cpuSample is one reading of the machine's and this tree's CPU time.
type cpuSample struct {
	at          time.Time
	machineBusy float64 // seconds of busy CPU, all CPUs, since boot
	own         float64 // seconds of CPU of this process tree
}

func sampleCPU() (cpuSample, error) {
	busy, err := machineBusySeconds()
	if err != nil {
		return cpuSample{}, err
	}
	own, err := treeCPUSeconds(os.Getpid())
	if err != nil {
		return cpuSample{}, err
	}
	return cpuSample{at: time.Now(), machineBusy: busy, own: own}, nil
}

// othersCPUs is the average number of CPUs other processes kept busy
// between a and b.
func othersCPUs(a, b cpuSample) float64 {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return 0
	}
	others := (b.machineBusy - a.machineBusy) - (b.own - a.own)
	return max(others, 0) / wall
}

// machineBusySeconds is the CPU time all CPUs spent on anything but idle
// and I/O wait since boot (user, nice, system, irq, softirq; steal is
// the hypervisor's, not this machine's work).
func machineBusySeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy uint64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		busy += v
	}
	return float64(busy) / clockTicks, nil
}

// treeCPUSeconds is the CPU time of root and its live descendants,
// including what each has collected from its reaped children.
func treeCPUSeconds(root int) (float64, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	type proc struct {
		ppid  int
		ticks uint64
	}
	procs := map[int]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		// After the command name: state(3) ppid(4) ... utime(14)
		// stime(15) cutime(16) cstime(17).
		f := strings.Fields(s[i+1:])
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		var ticks uint64
		for _, k := range []int{11, 12, 13, 14} {
			v, _ := strconv.ParseUint(f[k], 10, 64)
			ticks += v
		}
		procs[pid] = proc{ppid: ppid, ticks: ticks}
	}
	if _, ok := procs[root]; !ok {
		return 0, fmt.Errorf("/proc/%d/stat unreadable", root)
	}
	var total uint64
	for pid, p := range procs {
		for q := pid; ; {
			if q == root {
				total += p.ticks
				break
			}
			up, ok := procs[q]
			if !ok || up.ppid == q || up.ppid == 0 {
				break
			}
			q = up.ppid
		}
	}
	return float64(total) / clockTicks, nil
}
