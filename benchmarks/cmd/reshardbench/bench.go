package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/topo"
)

// report is one run's numbers.
type report struct {
	Rows int
	// Load is how long loading the rows into the sources took.
	Load time.Duration
	// CopyRate is the workflow's copy_rows_per_second when the copy
	// ended; CopyWall is from the targets being ready to state running.
	CopyRate float64
	CopyWall time.Duration
	Copied   int64
	// Baseline is the writer alone before the workflow, DuringCopy while
	// the copy ran.
	Baseline, DuringCopy writeStats
	// CatchUp is from the end of the copy to a lag under a second, with
	// the writer on.
	CatchUp  time.Duration
	Switches []switchResult
}

func benchmark(ctx context.Context, o options, log io.Writer) (*report, error) {
	e, err := startEnv(ctx, o, log)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rep := &report{Rows: o.rows}

	fmt.Fprintf(log, "reshardbench: loading %d rows into %s/%v\n", o.rows, keyspace, sourceShards)
	t0 := time.Now()
	if err := e.load(ctx, o.rows); err != nil {
		return nil, err
	}
	rep.Load = time.Since(t0)

	w := newWriter(e.db, o.rows, o.writeRate)
	wctx, stopWriter := context.WithCancel(ctx)
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); w.run(wctx) }()
	defer func() { stopWriter(); <-writerDone }()
	const baseline = 3 * time.Second
	time.Sleep(baseline)
	rep.Baseline = w.take(baseline)

	fmt.Fprintf(log, "reshardbench: creating the workflow %v -> %v and starting the targets\n", sourceShards, targetShards)
	e.startRunner(o.chunkRows)
	if err := e.createWorkflow(ctx); err != nil {
		return nil, err
	}
	w.take(0) // the targets' start is not the copy
	copyStart := time.Now()
	fmt.Fprintln(log, "reshardbench: copying")
	st, err := e.waitState(ctx, 30*time.Minute, func(st reshard.Status) bool { return st.State != topo.WorkflowCopying })
	if err != nil {
		return nil, err
	}
	rep.CopyWall = time.Since(copyStart)
	rep.DuringCopy = w.take(rep.CopyWall)
	rep.CopyRate, rep.Copied = st.CopyRowsPerSecond, st.RowsCopied

	fmt.Fprintln(log, "reshardbench: catching up")
	caughtStart := time.Now()
	// With the writer on, the stream is never idle, so the lag is under
	// a second when caught up, not 0.
	if _, err := e.waitState(ctx, 5*time.Minute, func(st reshard.Status) bool { return st.LagSeconds != nil && *st.LagSeconds < 1 }); err != nil {
		return nil, err
	}
	rep.CatchUp = time.Since(caughtStart)

	// Switch writes to the targets, back, and to the targets again,
	// under the writer, as an operator would (switch-traffic --writes,
	// reverse-traffic).
	for _, dir := range []topo.SwitchDirection{topo.SwitchForward, topo.SwitchReverse, topo.SwitchForward} {
		fmt.Fprintf(log, "reshardbench: write switch %s\n", dir)
		time.Sleep(2 * time.Second) // the writer at its steady rate, and catch-up current
		w.take(0)
		t0 := time.Now()
		wf, err := e.switchWrites(ctx, dir)
		if err != nil {
			return nil, err
		}
		took := time.Since(t0)
		// The writer's statements held at the end of the switch finish
		// right after it.
		time.Sleep(200 * time.Millisecond)
		rep.Switches = append(rep.Switches, switchResult{Direction: dir, Hold: wf.WriteSwitch.Stall, Took: took,
			Writer: w.take(took + 200*time.Millisecond)})
	}
	return rep, nil
}

// switchResult is one write switch under the writer.
type switchResult struct {
	Direction topo.SwitchDirection
	// Hold is the workflow's stall: the keyspace's writes held, from the
	// hold placed to its release.
	Hold time.Duration
	// Took is the whole switch as the operator waits for it.
	Took   time.Duration
	Writer writeStats
}

func (r *report) print(out io.Writer) {
	fmt.Fprintf(out, "\n== Resharding: %d rows of %s, %v -> %v, a writer through the gateway\n", r.Rows, table, sourceShards, targetShards)
	fmt.Fprintf(out, "load into the sources        %v (%.0f rows/s, binlog off)\n", r.Load.Round(time.Millisecond), float64(r.Rows)/r.Load.Seconds())
	target := "met"
	if r.CopyRate < 100_000 {
		target = "missed"
	}
	fmt.Fprintf(out, "copy rate                    %.0f rows/s (%d rows; target >= 100,000 rows/s: %s)\n", r.CopyRate, r.Copied, target)
	fmt.Fprintf(out, "copy wall time               %v (targets ready to state running)\n", r.CopyWall.Round(time.Millisecond))
	// The copy writes what the load wrote, plus binlogs: the ratio says
	// how close it comes to what these servers can take on this machine.
	fmt.Fprintf(out, "copy rate / load rate        %.2f (the servers' own bulk-insert rate, measured in this run)\n", r.CopyRate/(float64(r.Rows)/r.Load.Seconds()))
	fmt.Fprintf(out, "catch-up to lag < 1 s       %v (from the end of the copy)\n", r.CatchUp.Round(time.Millisecond))
	fmt.Fprintf(out, "%-28s %9s %8s %8s %8s %8s %8s %6s\n", "writer", "stmts", "per s", "p50", "p99", "max", "max gap", "errors")
	for _, row := range []struct {
		name string
		s    writeStats
	}{{"before the workflow", r.Baseline}, {"during the copy", r.DuringCopy}} {
		fmt.Fprintf(out, "%-28s %9d %8.0f %8v %8v %8v %8v %6d\n", row.name, row.s.Statements, row.s.PerSecond,
			row.s.P50.Round(10*time.Microsecond), row.s.P99.Round(10*time.Microsecond), row.s.Max.Round(time.Millisecond),
			row.s.MaxGap.Round(time.Millisecond), row.s.Errors)
		if row.s.LastErr != "" {
			fmt.Fprintf(out, "    last error: %s\n", row.s.LastErr)
		}
	}
	fmt.Fprintf(out, "%-28s %9s %8s %10s %10s %6s\n", "write switch", "hold", "took", "max write", "max gap", "errors")
	for i, sw := range r.Switches {
		fmt.Fprintf(out, "%-28s %9v %8v %10v %10v %6d\n", fmt.Sprintf("%d. %s", i+1, sw.Direction), sw.Hold.Round(time.Millisecond),
			sw.Took.Round(time.Millisecond), sw.Writer.Max.Round(time.Millisecond), sw.Writer.MaxGap.Round(time.Millisecond), sw.Writer.Errors)
		if sw.Writer.LastErr != "" {
			fmt.Fprintf(out, "    last error: %s\n", sw.Writer.LastErr)
		}
	}
	if len(r.Switches) > 0 {
		var longest time.Duration
		for _, sw := range r.Switches {
			longest = max(longest, sw.Writer.Max)
		}
		target := "met"
		if longest > 500*time.Millisecond {
			target = "missed"
		}
		fmt.Fprintf(out, "longest write during a switch %v (target <= 500 ms: %s)\n", longest.Round(time.Millisecond), target)
	}
}
