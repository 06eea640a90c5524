package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// publishLoad is the one-minute load average a run must start under to
// be published (issue 17: "load average under 1 before it starts"). A
// machine at load 1.5 with two CPUs has spare cores on average, but the
// work behind that load still takes CPU from whichever leg runs beside
// it, and on two cores that moves the ratios by more than the targets'
// margins.
const publishLoad = 1.0

// quietWait is how waitForQuiet paces itself: how long it waits at most
// and how often it reads the load average meanwhile.
type quietWait struct {
	max   time.Duration
	every time.Duration
	// load reads the one-minute load average (-1 if unreadable).
	load func() float64
	// sleep waits d or until ctx is done.
	sleep func(ctx context.Context, d time.Duration) error
}

// waitForQuiet reads the load average until it is under publishLoad or
// w.max has passed, printing it while it waits, and returns the last
// reading: the run's load average before it starts anything. It starts
// nothing itself, so its own waiting adds nothing to the load it reads.
// A run that starts at or above publishLoad after the wait still runs
// (its table is worth reading) but is not published.
func waitForQuiet(ctx context.Context, w quietWait, log io.Writer) (float64, error) {
	load := w.load()
	if load >= 0 && load < publishLoad || w.max <= 0 {
		return load, nil
	}
	fmt.Fprintf(log, "bench: load average %.2f: waiting up to %s for it to drop under %.0f (a run is published only if it starts under %.0f)\n",
		load, w.max, publishLoad, publishLoad)
	for waited := time.Duration(0); waited < w.max; {
		step := min(w.every, w.max-waited)
		if err := w.sleep(ctx, step); err != nil {
			return load, err
		}
		waited += step
		load = w.load()
		if load >= 0 && load < publishLoad {
			fmt.Fprintf(log, "bench: load average %.2f after %s: starting\n", load, waited)
			return load, nil
		}
		fmt.Fprintf(log, "bench: load average %.2f after %s\n", load, waited)
	}
	fmt.Fprintf(log, "bench: load average still %.2f after %s: running anyway; this run will not be published\n", load, w.max)
	return load, nil
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
