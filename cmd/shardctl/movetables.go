package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// sourcePasswordEnv is read when --source-password is not given, so the
// password of an external source need not be on a command line.
const sourcePasswordEnv = "SHARDGATE_SOURCE_PASSWORD"

// movetablesCommands are `shardctl movetables ...`: the reshard verbs for
// a table move. A movetables workflow is recorded in its target keyspace:
// the verbs name it with --target-keyspace (or --keyspace) and --workflow.
func movetablesCommands() []*command {
	var keyspace, workflow, source, tables, format, percent string
	var srcAddr, srcDB, srcUser, srcPassword string
	var reads, writes, drop, keepData bool
	var db twopcFlags
	named := func(fs *flag.FlagSet) {
		fs.StringVar(&keyspace, "target-keyspace", "", "keyspace the tables move to (the workflow's keyspace)")
		fs.StringVar(&keyspace, "keyspace", "", "the same as --target-keyspace")
		fs.StringVar(&workflow, "workflow", "", "name of the workflow")
	}
	needNamed := func(args []string) error {
		if err := wantArgs(args); err != nil {
			return err
		}
		if keyspace == "" || workflow == "" {
			return usageErrorf("--target-keyspace and --workflow are required")
		}
		return nil
	}
	login := func() tablet.ConnConfig { return tablet.ConnConfig{User: db.dbUser, Password: db.dbPassword} }
	switchConfig := func(s *topo.Store) reshard.MoveSwitchConfig {
		return reshard.MoveSwitchConfig{Store: s, Conn: login()}
	}
	status := func(e *env, w *topo.Workflow, what string) {
		fmt.Fprintf(e.stdout, "workflow %s/%s: %s; state %s\n", w.Keyspace, w.Name, what, w.State)
	}
	return []*command{
		{
			group: "movetables", verb: "create",
			args:    "--workflow NAME --target-keyspace DST --tables t1,t2 (--source-keyspace SRC | --source-address HOST:PORT --source-db DB [--source-user U] [--source-password P])",
			summary: "start moving tables into keyspace DST from keyspace SRC or from a MariaDB shardgate doesn't manage: check, create the tables on DST's shards, route them to the source, record the workflow (the controller copies and catches up)",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.StringVar(&source, "source-keyspace", "", "keyspace the tables leave")
				fs.StringVar(&tables, "tables", "", "comma-separated tables to move")
				fs.StringVar(&srcAddr, "source-address", "", "an external MariaDB to import from, host:port (instead of --source-keyspace)")
				fs.StringVar(&srcDB, "source-db", "", "the external source's database")
				fs.StringVar(&srcUser, "source-user", "root", "user to log in to the external source with (it needs SELECT, REPLICATION SLAVE, and for the write switch the right to SET GLOBAL read_only)")
				fs.StringVar(&srcPassword, "source-password", "", "password for --source-user (default $"+sourcePasswordEnv+"); stored in etcd as given")
				db.register(fs)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := needNamed(args); err != nil {
					return err
				}
				if tables == "" {
					return usageErrorf("--tables is required")
				}
				req := reshard.MoveTablesRequest{Workflow: workflow, SourceKeyspace: source, TargetKeyspace: keyspace, Tables: splitList(tables)}
				switch {
				case source != "" && srcAddr != "":
					return usageErrorf("give --source-keyspace or --source-address, not both")
				case srcAddr != "":
					if srcDB == "" {
						return usageErrorf("--source-db is required with --source-address")
					}
					if srcPassword == "" {
						srcPassword = os.Getenv(sourcePasswordEnv)
					}
					req.External = &topo.ExternalSource{Address: srcAddr, DB: srcDB, User: srcUser, Password: srcPassword}
				case source == "":
					return usageErrorf("--source-keyspace or --source-address is required")
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				w, err := reshard.CreateMoveTables(ctx, s, login(), req)
				if err != nil {
					return err
				}
				from := source
				if req.External != nil {
					from = srcAddr + "/" + srcDB
				}
				status(e, w, fmt.Sprintf("moving %s from %s", strings.Join(w.MoveTables.Tables, ","), from))
				return nil
			},
		},
		{
			group: "movetables", verb: "status", args: "--target-keyspace KS --workflow NAME [--format text|json]",
			summary: "show a table move's state, copy progress and lag",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.StringVar(&format, "format", "text", "text or json")
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := needNamed(args); err != nil {
					return err
				}
				if err := checkFormat(format); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				w, err := s.GetWorkflow(ctx, keyspace, workflow)
				if err != nil {
					return err
				}
				st := reshard.StatusOf(w, time.Now())
				if format == "json" {
					return writeJSON(e, st)
				}
				mt := w.MoveTables
				if mt == nil {
					return fmt.Errorf("workflow %s/%s is a %s; see shardctl reshard status", w.Keyspace, w.Name, w.Kind)
				}
				from := "keyspace " + mt.SourceKeyspace
				if mt.External != nil {
					from = mt.External.Address + "/" + mt.External.DB
				}
				fmt.Fprintf(e.stdout, "workflow %s/%s (movetables): %s from %s\nstate: %s\nrows copied: %d of %d (%.0f rows/s)\n",
					st.Keyspace, st.Workflow, strings.Join(mt.Tables, ","), from, st.State, st.RowsCopied, st.RowsTotal, st.CopyRowsPerSecond)
				if st.LagSeconds != nil {
					fmt.Fprintf(e.stdout, "catch-up: lag %.0fs, %d row changes applied\n", *st.LagSeconds, st.RowsApplied)
				}
				if st.ReadPercent > 0 {
					fmt.Fprintf(e.stdout, "reads: %g%% of sessions read the tables from %s\n", st.ReadPercent, w.Keyspace)
				}
				if mt.MaxWriteStallSeconds > 0 {
					fmt.Fprintf(e.stdout, "longest write stall of a traffic switch: %.3fs\n", mt.MaxWriteStallSeconds)
				}
				if mt.Reverse != "" {
					fmt.Fprintf(e.stdout, "reverse replication: workflow %s/%s\n", mt.SourceKeyspace, mt.Reverse)
				}
				if st.Error != "" {
					fmt.Fprintf(e.stdout, "error: %s\n", st.Error)
				}
				return nil
			},
		},
		{
			group: "movetables", verb: "vdiff", args: "--target-keyspace KS --workflow NAME [--format text|json]",
			summary: "compare the moved tables on both sides at one position; exit 0 when they agree, 3 with a report when they differ",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.StringVar(&format, "format", "text", "text or json")
				db.register(fs)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := needNamed(args); err != nil {
					return err
				}
				if err := checkFormat(format); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				rep, err := reshard.VDiff(ctx, reshard.VDiffConfig{Store: s, Conn: login()}, keyspace, workflow)
				if err != nil {
					return err
				}
				return reportVDiff(e, rep, format, "the target differs from the source")
			},
		},
		{
			group: "movetables", verb: "switch-traffic", args: "--target-keyspace KS --workflow NAME (--reads --percent P | --writes)",
			summary: "send P% of sessions' reads of the tables to the target keyspace, or switch their writes (buffered, every gateway acknowledging)",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.BoolVar(&reads, "reads", false, "switch reads")
				fs.BoolVar(&writes, "writes", false, "switch writes (and all reads)")
				fs.StringVar(&percent, "percent", "", "with --reads: 0.01 to 100 in steps of 0.01, or 0")
				db.register(fs)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := needNamed(args); err != nil {
					return err
				}
				if reads == writes {
					return usageErrorf("give one of --reads and --writes")
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				if writes {
					w, stall, err := reshard.SwitchMovedWrites(ctx, switchConfig(s), keyspace, workflow)
					if err != nil {
						return err
					}
					status(e, w, fmt.Sprintf("writes of %s go to %s (longest write stall %v)", strings.Join(w.MoveTables.Tables, ","), w.Keyspace, stall.Round(time.Millisecond)))
					return nil
				}
				w, err := switchReads(ctx, e, keyspace, workflow, percent)
				if err != nil {
					return err
				}
				status(e, w, fmt.Sprintf("%g%% of sessions read %s from %s", reshard.StatusOf(w, time.Now()).ReadPercent, strings.Join(w.MoveTables.Tables, ","), w.Keyspace))
				return nil
			},
		},
		{
			group: "movetables", verb: "reverse-traffic", args: "--target-keyspace KS --workflow NAME",
			summary: "send the tables' reads and writes back to the source keyspace (kept current by reverse replication)",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				db.register(fs)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := needNamed(args); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				w, stall, err := reshard.ReverseMovedTraffic(ctx, switchConfig(s), keyspace, workflow)
				if err != nil {
					return err
				}
				status(e, w, fmt.Sprintf("traffic of %s is back on %s (longest write stall %v)", strings.Join(w.MoveTables.Tables, ","), w.MoveTables.SourceKeyspace, stall.Round(time.Millisecond)))
				return nil
			},
		},
		{
			group: "movetables", verb: "complete", args: "--target-keyspace KS --workflow NAME [--drop]",
			summary: "after the write switch: stop reverse replication, remove the routing rules (the tables live in the target keyspace); --drop drops them from the source keyspace",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.BoolVar(&drop, "drop", false, "drop the tables from the source keyspace's shards")
				db.register(fs)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := needNamed(args); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				w, err := reshard.CompleteMoveTables(ctx, s, login(), keyspace, workflow, drop)
				if err != nil {
					return err
				}
				what := "the tables live in " + w.Keyspace
				if drop {
					what += ", dropped from " + w.MoveTables.SourceKeyspace
				}
				status(e, w, what)
				return nil
			},
		},
		{
			group: "movetables", verb: "cancel", args: "--target-keyspace KS --workflow NAME [--keep-data]",
			summary: "before writes are switched: stop the workflow, drop the tables it created on the target (unless --keep-data), remove its routing rules",
			flags: func(fs *flag.FlagSet) {
				named(fs)
				fs.BoolVar(&keepData, "keep-data", false, "leave the target's copies of the tables")
				db.register(fs)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := needNamed(args); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				w, err := reshard.CancelMoveTables(ctx, s, login(), keyspace, workflow, keepData)
				if err != nil {
					return err
				}
				status(e, w, "cancelled; the tables stay in the source")
				return nil
			},
		},
	}
}
