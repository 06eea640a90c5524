package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// spinEnv makes a re-executed test binary burn childCPU of CPU and exit.
const spinEnv = "BENCH_TEST_SPIN_CHILD"

// childCPU is the CPU time the busy child burns: counted in CPU, not wall
// time, so a loaded machine makes it slower, not smaller.
const childCPU = 500 * time.Millisecond

// TestOthersCPU: a busy child of this process counts as its own work,
// not as other work on the machine.
func TestOthersCPU(t *testing.T) {
	if os.Getenv(spinEnv) == "1" {
		spinCPU(childCPU)
		os.Exit(0)
	}
	a, err := sampleCPU()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOthersCPU$")
	cmd.Env = append(os.Environ(), spinEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("busy child: %v: %s", err, out)
	}
	time.Sleep(50 * time.Millisecond)
	b, err := sampleCPU()
	if err != nil {
		t.Fatal(err)
	}
	own := b.own - a.own
	if want := 0.8 * childCPU.Seconds(); own < want {
		t.Errorf("own CPU over a busy child's run: got %.2f s, want its %.2f s counted (>= %.2f s)", own, childCPU.Seconds(), want)
	}
	t.Logf("own %.2f s, others %.2f CPUs over %.2f s", own, othersCPUs(a, b), b.at.Sub(a.at).Seconds())
}

// spinCPU burns at least d of this process's CPU time.
func spinCPU(d time.Duration) {
	for x := 0; ; x++ {
		if x%100_000 == 0 {
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil &&
				time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= d {
				return
			}
		}
	}
}
