package main

import (
	"os/exec"
	"testing"
	"time"
)

// TestOthersCPU: a busy child of this process counts as its own work,
// not as other work on the machine.
func TestOthersCPU(t *testing.T) {
	a, err := sampleCPU()
	if err != nil {
		t.Fatal(err)
	}
	// A child that burns about a second of CPU, reaped before the sample.
	cmd := exec.Command("sh", "-c", "end=$(($(date +%s)+1)); while [ $(date +%s) -lt $end ]; do :; done")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	b, err := sampleCPU()
	if err != nil {
		t.Fatal(err)
	}
	own := b.own - a.own
	if own < 0.3 {
		t.Errorf("own CPU over a busy child's run: got %.2f s, want its CPU time counted (>= 0.3 s)", own)
	}
	t.Logf("own %.2f s, others %.2f CPUs over %.2f s", own, othersCPUs(a, b), b.at.Sub(a.at).Seconds())
}
