package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/twopc"
)

// twopcFlags are how shardctl logs in to the primaries to read and finish
// XA branches.
type twopcFlags struct {
	dbUser, dbPassword string
	force              bool
}

func (f *twopcFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dbUser, "db-user", "root", "user to log in to the MySQL primaries with")
	fs.StringVar(&f.dbPassword, "db-password", "", "password for --db-user")
}

func (f *twopcFlags) config(ctx context.Context, e *env) (twopc.ResolveConfig, error) {
	s, err := e.Store(ctx)
	if err != nil {
		return twopc.ResolveConfig{}, err
	}
	return twopc.ResolveConfig{
		Client:    s.Client(),
		Root:      s.Root(),
		Conn:      tablet.ConnConfig{User: f.dbUser, Password: f.dbPassword},
		Primaries: func(ctx context.Context) ([]twopc.Primary, error) { return twopc.Primaries(ctx, s) },
	}, nil
}

func twopcCommands() []*command {
	var f twopcFlags
	return []*command{
		{
			group: "twopc", verb: "list", args: "[--db-user U] [--db-password P]",
			summary: "list unresolved two-phase commits: decision records and prepared branches",
			flags:   f.register,
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				cfg, err := f.config(ctx, e)
				if err != nil {
					return err
				}
				txs, err := twopc.Inspect(ctx, cfg)
				if err != nil {
					return err
				}
				w := e.table("DTID", "DECISION", "COORDINATOR", "PREPARED BRANCHES")
				for _, tx := range txs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", tx.DTID, decision(tx), alive(tx), branchList(tx))
				}
				return w.Flush()
			},
		},
		{
			group: "twopc", verb: "show", args: "DTID [--db-user U] [--db-password P]",
			summary: "show one unresolved two-phase commit with its participants",
			flags:   f.register,
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args, "DTID"); err != nil {
					return err
				}
				cfg, err := f.config(ctx, e)
				if err != nil {
					return err
				}
				txs, err := twopc.Inspect(ctx, cfg)
				if err != nil {
					return err
				}
				for _, tx := range txs {
					if tx.DTID != args[0] {
						continue
					}
					fmt.Fprintf(e.stdout, "dtid: %s\ndecision: %s\ncoordinator: %s\n", tx.DTID, decision(tx), alive(tx))
					if tx.Record != nil {
						fmt.Fprintf(e.stdout, "decided: %s by %s\nparticipants:\n", tx.Record.Decided.Format("2006-01-02T15:04:05.000Z"), tx.Record.By)
						for _, p := range tx.Record.Participants {
							fmt.Fprintf(e.stdout, "  %s/%s\n", p.Keyspace, p.Shard)
						}
					}
					fmt.Fprintln(e.stdout, "prepared branches:")
					for _, b := range tx.Branches {
						fmt.Fprintf(e.stdout, "  %s/%s at %s: XA %s\n", b.Keyspace, b.Shard, b.Primary.Addr, b.Xid.String())
					}
					return nil
				}
				return fmt.Errorf("twopc: %s: no decision record and no prepared branch", args[0])
			},
		},
		{
			group: "twopc", verb: "resolve", args: "DTID|all [--force] [--db-user U] [--db-password P]",
			summary: "finish unresolved two-phase commits per their decision (rollback if none)",
			flags: func(fs *flag.FlagSet) {
				f.register(fs)
				fs.BoolVar(&f.force, "force", false, "also roll back a transaction whose coordinator still holds its lease")
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args, "DTID|all"); err != nil {
					return err
				}
				cfg, err := f.config(ctx, e)
				if err != nil {
					return err
				}
				dtid := args[0]
				if dtid == "all" {
					dtid = ""
				}
				outs, err := twopc.Resolve(ctx, cfg, dtid, f.force)
				for _, o := range outs {
					if o.Skipped != "" {
						fmt.Fprintf(e.stdout, "%s: skipped (%s)\n", o.DTID, o.Skipped)
						continue
					}
					fmt.Fprintf(e.stdout, "%s: %s, %d branches finished, %d pending\n", o.DTID, o.State, o.Finished, o.Pending)
				}
				return err
			},
		},
	}
}

func decision(tx *twopc.Tx) string {
	if tx.Record == nil {
		return "none (presumed rollback)"
	}
	return string(tx.Record.State)
}

func alive(tx *twopc.Tx) string {
	if tx.CoordinatorAlive {
		return "alive"
	}
	return "gone"
}

func branchList(tx *twopc.Tx) string {
	var parts []string
	for _, b := range tx.Branches {
		parts = append(parts, b.Keyspace+"/"+b.Shard)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}
