package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

func reshardCommands() []*command {
	var keyspace, workflow, sources, targets, format, percent string
	var reads, writes, drop bool
	var switchTimeout, pickup time.Duration
	var db twopcFlags // the same --db-user/--db-password as twopc
	named := func(fs *flag.FlagSet) {
		fs.StringVar(&keyspace, "keyspace", "", "keyspace of the workflow")
		fs.StringVar(&workflow, "workflow", "", "name of the workflow")
	}
	needNamed := func() error {
		if keyspace == "" || workflow == "" {
			return usageErrorf("--keyspace and --workflow are required")
		}
		return nil
	}
	return []*command{
		{
			group: "reshard", verb: "create",
			args:    "--keyspace KS --workflow NAME --source-shards LIST --target-shards LIST [--db-user U] [--db-password P]",
			summary: "start splitting or merging shards: check the ranges, prepare the targets, copy the schema, record the workflow (the controller copies the rows)",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.StringVar(&sources, "source-shards", "", "comma-separated source shards, e.g. -80")
				fs.StringVar(&targets, "target-shards", "", "comma-separated target shards covering the same range, e.g. -40,40-80")
				db.register(fs)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if err := needNamed(); err != nil {
					return err
				}
				if sources == "" || targets == "" {
					return usageErrorf("--source-shards and --target-shards are required")
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				w, err := reshard.Create(ctx, s, tablet.ConnConfig{User: db.dbUser, Password: db.dbPassword}, reshard.CreateRequest{
					Keyspace: keyspace, Workflow: workflow,
					SourceShards: splitList(sources), TargetShards: splitList(targets),
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "created workflow %s/%s: %s → %s, state %s\n", w.Keyspace, w.Name,
					strings.Join(w.SourceShards, ","), strings.Join(w.TargetShards, ","), w.State)
				return nil
			},
		},
		{
			group: "reshard", verb: "list",
			summary: "list workflows with their states",
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				wfs, err := s.ListWorkflows(ctx)
				if err != nil {
					return err
				}
				w := e.table("KEYSPACE", "WORKFLOW", "KIND", "STATE", "SOURCES", "TARGETS", "ROWS")
				for _, wf := range wfs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\n", wf.Keyspace, wf.Name, wf.Kind, wf.State,
						strings.Join(wf.SourceShards, ","), strings.Join(wf.TargetShards, ","), wf.RowsCopied(), wf.RowsTotal())
				}
				return w.Flush()
			},
		},
		{
			group: "reshard", verb: "status", args: "--keyspace KS --workflow NAME [--format text|json]",
			summary: "show a workflow's state and copy progress",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.StringVar(&format, "format", "text", "text or json")
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if err := needNamed(); err != nil {
					return err
				}
				if err := checkFormat(format); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				wf, err := s.GetWorkflow(ctx, keyspace, workflow)
				if err != nil {
					return err
				}
				st := reshard.StatusOf(wf, time.Now())
				if format == "json" {
					return writeJSON(e, st)
				}
				fmt.Fprintf(e.stdout, "workflow %s/%s (%s): %s → %s\nstate: %s\nrows copied: %d of %d (%.0f rows/s)\n",
					st.Keyspace, st.Workflow, st.Kind, strings.Join(st.SourceShards, ","), strings.Join(st.TargetShards, ","),
					st.State, st.RowsCopied, st.RowsTotal, st.CopyRowsPerSecond)
				if st.LagSeconds != nil {
					fmt.Fprintf(e.stdout, "catch-up: lag %.0fs, %d row changes applied\n", *st.LagSeconds, st.RowsApplied)
				}
				if wf.ProvisionTargets {
					fmt.Fprintf(e.stdout, "targets: waiting for shardgate up to start their instances\n")
				}
				if st.ReadPercent > 0 {
					fmt.Fprintf(e.stdout, "reads: %g%% of sessions read from the targets\n", st.ReadPercent)
				}
				if ws := st.WriteSwitch; ws != nil {
					fmt.Fprintf(e.stdout, "write switch: %s %s", ws.Direction, ws.Phase)
					if ws.Error != "" {
						fmt.Fprintf(e.stdout, " (%s)", ws.Error)
					}
					fmt.Fprintf(e.stdout, "; write stall: last %.0f ms, longest %.0f ms\n", st.WriteStallMs, st.MaxWriteStallMs)
				}
				if st.Error != "" {
					fmt.Fprintf(e.stdout, "error: %s\n", st.Error)
				}
				w := e.table("SOURCE", "TABLE", "ROWS", "DONE", "SNAPSHOT GTID")
				for _, sh := range st.Shards {
					fmt.Fprintf(w, "%s\t%s\t%d/%d\t%v\t%s\n", sh.Shard, dash(sh.Table), sh.RowsCopied, sh.RowsTotal, sh.Done, dash(sh.SnapshotGTID))
				}
				return w.Flush()
			},
		},
		{
			group: "reshard", verb: "vdiff", args: "--keyspace KS --workflow NAME [--format text|json] [--db-user U] [--db-password P]",
			summary: "compare the targets with the sources at one position (the controller's catch-up pauses there); exit 0 when they agree, 3 with a report when they differ",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.StringVar(&format, "format", "text", "text or json")
				db.register(fs)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if err := needNamed(); err != nil {
					return err
				}
				if err := checkFormat(format); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				rep, err := reshard.VDiff(ctx, reshard.VDiffConfig{
					Store: s, Conn: tablet.ConnConfig{User: db.dbUser, Password: db.dbPassword},
				}, keyspace, workflow)
				if err != nil {
					return err
				}
				return reportVDiff(e, rep, format, "the targets differ from the sources")
			},
		},
		{
			group: "reshard", verb: "switch-traffic", args: "--keyspace KS --workflow NAME (--reads --percent P | --writes [--timeout D])",
			summary: "--reads: send P% (0.01 to 100, 0 takes it back) of the keyspace's sessions' reads outside transactions to the targets; --writes: hold the keyspace's writes in every gateway, let the targets catch up, switch writes (and reads) to the targets, start reverse replication",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.BoolVar(&reads, "reads", false, "switch reads")
				fs.BoolVar(&writes, "writes", false, "switch writes (the controller does it; this waits for the outcome)")
				fs.StringVar(&percent, "percent", "", "share of sessions reading from the targets: 0.01 to 100 in steps of 0.01, or 0")
				switchFlags(fs, &switchTimeout, &pickup)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if err := needNamed(); err != nil {
					return err
				}
				if reads == writes {
					return usageErrorf("give one of --reads and --writes")
				}
				if writes {
					if percent != "" {
						return usageErrorf("--percent goes with --reads")
					}
					return runWriteSwitch(ctx, e, keyspace, workflow, topo.SwitchForward, switchTimeout, pickup)
				}
				w, err := switchReads(ctx, e, keyspace, workflow, percent)
				if err != nil {
					return err
				}
				st := reshard.StatusOf(w, time.Now())
				fmt.Fprintf(e.stdout, "workflow %s/%s: %g%% of sessions read from %s, state %s\n", w.Keyspace, w.Name,
					st.ReadPercent, strings.Join(w.TargetShards, ","), w.State)
				return nil
			},
		},
		{
			group: "reshard", verb: "reverse-traffic", args: "--keyspace KS --workflow NAME [--timeout D]",
			summary: "after writes are switched: the same buffered switch back to the sources (kept current by reverse replication); the targets catch up from them again",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				switchFlags(fs, &switchTimeout, &pickup)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if err := needNamed(); err != nil {
					return err
				}
				return runWriteSwitch(ctx, e, keyspace, workflow, topo.SwitchReverse, switchTimeout, pickup)
			},
		},
		{
			group: "reshard", verb: "complete", args: "--keyspace KS --workflow NAME [--drop] [--db-user U] [--db-password P]",
			summary: "after writes are switched: stop reverse replication, remove the sources from the serving graph and the topology; --drop also drops their tables",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.BoolVar(&drop, "drop", false, "drop the keyspace's tables on the source primaries (under shardgate up, stop the instances it started for them)")
				db.register(fs)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if err := needNamed(); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				w, err := reshard.Complete(ctx, s, tablet.ConnConfig{User: db.dbUser, Password: db.dbPassword}, keyspace, workflow, drop)
				if err != nil {
					return err
				}
				what := "their data is kept"
				if drop {
					what = "their tables are dropped"
				}
				fmt.Fprintf(e.stdout, "completed workflow %s/%s: %s serve, source shards %s removed from the topology (%s)\n",
					w.Keyspace, w.Name, strings.Join(w.TargetShards, ","), strings.Join(w.SourceShards, ","), what)
				return nil
			},
		},
		{
			group: "reshard", verb: "cancel", args: "--keyspace KS --workflow NAME",
			summary: "before writes are switched: take reads back, stop the workflow, remove the target shards and tablets from the topology (their data stays)",
			flags:   named,
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if err := needNamed(); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				w, err := reshard.Cancel(ctx, s, keyspace, workflow)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "cancelled workflow %s/%s: removed target shards %s from the topology (their data is left)\n",
					w.Keyspace, w.Name, strings.Join(w.TargetShards, ","))
				return nil
			},
		},
	}
}

// switchFlags registers the flags of a write switch.
func switchFlags(fs *flag.FlagSet, timeout, pickup *time.Duration) {
	fs.DurationVar(timeout, "timeout", reshard.DefaultSwitchTimeout, "bound of the write switch: every gateway must acknowledge the hold within half of it, and writes are held at most this long")
	fs.DurationVar(pickup, "pickup-timeout", time.Minute, "how long to wait for a controller to start the switch before withdrawing the request")
}

// runWriteSwitch asks the controller for a write switch and waits for
// its outcome: exit 0 with the stall, or 1 with the reason (the writes
// stayed where they were).
func runWriteSwitch(ctx context.Context, e *env, keyspace, workflow string, dir topo.SwitchDirection, timeout, pickup time.Duration) error {
	s, err := e.Store(ctx)
	if err != nil {
		return err
	}
	ws, err := reshard.RequestWriteSwitch(ctx, s, keyspace, workflow, dir, timeout)
	if err != nil {
		return err
	}
	w, err := reshard.AwaitWriteSwitch(ctx, s, keyspace, workflow, ws.ID, pickup)
	if err != nil {
		return err
	}
	serving := w.TargetShards
	if dir == topo.SwitchReverse {
		serving = w.SourceShards
	}
	fmt.Fprintf(e.stdout, "workflow %s/%s: writes switched to %s (writes held %.0f ms), state %s\n",
		w.Keyspace, w.Name, strings.Join(serving, ","), float64(w.WriteSwitch.Stall)/float64(time.Millisecond), w.State)
	return nil
}

// checkFormat checks a --format flag's value.
func checkFormat(format string) error {
	if format != "text" && format != "json" {
		return usageErrorf("--format %q: want text or json", format)
	}
	return nil
}

// writeJSON writes v as indented JSON (--format json).
func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// switchReads is `switch-traffic --reads --percent P` of either kind of
// workflow: the share of sessions reading from its targets.
func switchReads(ctx context.Context, e *env, keyspace, workflow, percent string) (*topo.Workflow, error) {
	if percent == "" {
		return nil, usageErrorf("--percent is required with --reads")
	}
	per10000, err := reshard.ParsePercent(percent)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	s, err := e.Store(ctx)
	if err != nil {
		return nil, err
	}
	return reshard.SwitchReads(ctx, s, keyspace, workflow, per10000)
}

// reportVDiff writes a vdiff report as text or JSON and fails with the
// exit code of a difference (3) when the sides differ.
func reportVDiff(e *env, rep *reshard.VDiffReport, format, differs string) error {
	var err error
	if format == "json" {
		err = writeJSON(e, rep)
	} else {
		err = printVDiff(e, rep)
	}
	if err != nil {
		return err
	}
	if !rep.Clean {
		return &exitCodeError{code: exitDiffers, msg: differs}
	}
	return nil
}

// printVDiff writes a vdiff report as text.
func printVDiff(e *env, rep *reshard.VDiffReport) error {
	verdict := "clean: the targets equal the sources"
	if !rep.Clean {
		verdict = "DIFFERENT: the targets differ from the sources"
	}
	var pos []string
	for _, s := range slices.Sorted(maps.Keys(rep.Positions)) {
		pos = append(pos, s+" at "+rep.Positions[s])
	}
	fmt.Fprintf(e.stdout, "vdiff %s/%s: %s (compared at %s, %.1fs)\n", rep.Keyspace, rep.Workflow, verdict, strings.Join(pos, ", "), rep.Seconds)
	w := e.table("TABLE", "SOURCE ROWS", "TARGET ROWS", "MISSING", "EXTRA", "DIFFERENT")
	for _, t := range rep.Tables {
		name := t.Table
		if t.Reference {
			name += " (reference)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\n", name, shardCounts(t.SourceRows), shardCounts(t.TargetRows), t.Missing, t.Extra, t.Different)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, t := range rep.Tables {
		for _, d := range t.FirstDiffs {
			fmt.Fprintf(e.stdout, "%s: %s\n", t.Table, d)
		}
	}
	return nil
}

// shardCounts writes per-shard row counts in shard order: -80:10,80-:12.
func shardCounts(m map[string]int64) string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s:%d", s, m[s]))
	}
	return strings.Join(parts, ",")
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
