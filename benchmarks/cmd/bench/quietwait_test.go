package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeLoad replays load averages and counts the waits between them.
type fakeLoad struct {
	readings []float64
	reads    int
	slept    time.Duration
}

func (f *fakeLoad) wait(max time.Duration) quietWait {
	return quietWait{
		max:   max,
		every: 10 * time.Second,
		load: func() float64 {
			v := f.readings[min(f.reads, len(f.readings)-1)]
			f.reads++
			return v
		},
		sleep: func(ctx context.Context, d time.Duration) error {
			f.slept += d
			return ctx.Err()
		},
	}
}

func TestWaitForQuiet(t *testing.T) {
	for _, tc := range []struct {
		name      string
		readings  []float64
		max       time.Duration
		wantLoad  float64
		wantSlept time.Duration
		wantLog   string
	}{
		{name: "already quiet: no wait", readings: []float64{0.42}, max: 5 * time.Minute, wantLoad: 0.42},
		{name: "drops under 1 on the third reading", readings: []float64{3.1, 1.7, 0.96, 0.5}, max: 5 * time.Minute,
			wantLoad: 0.96, wantSlept: 20 * time.Second, wantLog: "load average 0.96 after 20s: starting"},
		{name: "exactly 1 is not under 1", readings: []float64{1.0, 1.0, 0.99}, max: 5 * time.Minute,
			wantLoad: 0.99, wantSlept: 20 * time.Second},
		{name: "never quiet: gives up after max", readings: []float64{2.5}, max: 35 * time.Second,
			wantLoad: 2.5, wantSlept: 35 * time.Second, wantLog: "will not be published"},
		{name: "no waiting asked", readings: []float64{2.5, 0.1}, max: 0, wantLoad: 2.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeLoad{readings: tc.readings}
			var log strings.Builder
			got, err := waitForQuiet(context.Background(), f.wait(tc.max), &log)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.wantLoad || f.slept != tc.wantSlept {
				t.Errorf("readings %v, max %s: got load %.2f after %s, want %.2f after %s\n%s",
					tc.readings, tc.max, got, f.slept, tc.wantLoad, tc.wantSlept, log.String())
			}
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log %q does not say %q", log.String(), tc.wantLog)
			}
		})
	}
}

func TestWaitForQuietStopsWithItsContext(t *testing.T) {
	f := &fakeLoad{readings: []float64{4}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := waitForQuiet(ctx, f.wait(5*time.Minute), &strings.Builder{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: got %v, want context.Canceled", err)
	}
}

// TestPublishRule: a run is published only if it started under a load
// average of 1 and other processes stayed at or under a tenth of a CPU,
// whatever the machine's CPU count.
func TestPublishRule(t *testing.T) {
	for _, tc := range []struct {
		load, others float64
		want         bool
	}{
		{0.3, 0.0, true},
		{0.99, 0.1, true},
		{1.0, 0.0, false},
		{1.15, 0.0, false}, // the run of 2026-12-06 08:20: under the 2 CPUs, not under 1
		{0.5, 0.11, false},
		{-1, 0.0, false}, // load average unreadable
	} {
		r := &report{LoadStart: tc.load, OthersCPUs: tc.others, Machine: machine{CPUs: 2}}
		if got := r.quiet(); got != tc.want {
			t.Errorf("load %.2f before, others %.2f CPUs: got published=%v, want %v", tc.load, tc.others, got, tc.want)
		}
	}
}
