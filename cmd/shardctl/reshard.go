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
)

func reshardCommands() []*command {
	var keyspace, workflow, sources, targets, format string
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
				if format != "text" && format != "json" {
					return usageErrorf("--format %q: want text or json", format)
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
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(st)
				}
				fmt.Fprintf(e.stdout, "workflow %s/%s (%s): %s → %s\nstate: %s\nrows copied: %d of %d (%.0f rows/s)\n",
					st.Keyspace, st.Workflow, st.Kind, strings.Join(st.SourceShards, ","), strings.Join(st.TargetShards, ","),
					st.State, st.RowsCopied, st.RowsTotal, st.CopyRowsPerSecond)
				if st.LagSeconds != nil {
					fmt.Fprintf(e.stdout, "catch-up: lag %.0fs, %d row changes applied\n", *st.LagSeconds, st.RowsApplied)
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
				if format != "text" && format != "json" {
					return usageErrorf("--format %q: want text or json", format)
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
				if format == "json" {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					if err := enc.Encode(rep); err != nil {
						return err
					}
				} else if err := printVDiff(e, rep); err != nil {
					return err
				}
				if !rep.Clean {
					return &exitCodeError{code: exitDiffers, msg: "the targets differ from the sources"}
				}
				return nil
			},
		},
	}
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
