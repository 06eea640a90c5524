package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/shardgate/shardgate/topo"
)

func tabletCommands() []*command {
	return []*command{tabletAddCommand(), {
		group: "tablet", verb: "list",
		summary: "list tablets by alias, with the health the failover controller last recorded",
		run: func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args); err != nil {
				return err
			}
			s, err := e.Store(ctx)
			if err != nil {
				return err
			}
			tablets, err := s.ListTablets(ctx)
			if err != nil {
				return err
			}
			health, err := s.ListTabletHealth(ctx)
			if err != nil {
				return err
			}
			byAlias := map[topo.TabletAlias]*topo.TabletHealth{}
			for _, h := range health {
				byAlias[h.Alias] = h
			}
			w := e.table("ALIAS", "KEYSPACE", "SHARD", "TYPE", "ADDRESS", "HEALTH", "REPLICATION", "LAG", "CHECKED")
			for _, t := range tablets {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Alias, t.Keyspace, t.Shard, t.Type, t.Addr(), healthColumns(byAlias[t.Alias]))
			}
			return w.Flush()
		},
	}}
}

// tabletAddCommand registers a MySQL instance that already runs, e.g. a
// resharding target on a real server.
func tabletAddCommand() *command {
	var keyspace, shard, typ, address, cell string
	var uid uint
	return &command{
		group: "tablet", verb: "add", args: "--keyspace KS --shard RANGE --type primary|replica --address HOST:PORT [--cell C] [--uid N]",
		summary: "register a running MySQL instance as a tablet (creates the shard, not serving if it overlaps one)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&keyspace, "keyspace", "", "keyspace of the tablet (must exist)")
			fs.StringVar(&shard, "shard", "", "shard (key range, e.g. -40) of the tablet; created if missing")
			fs.StringVar(&typ, "type", "", "primary or replica; a primary becomes its shard's primary")
			fs.StringVar(&address, "address", "", "host:port where the instance's MySQL listens")
			fs.StringVar(&cell, "cell", "zone1", "cell of the tablet")
			fs.UintVar(&uid, "uid", 0, "tablet uid in the cell; 0 picks the next free one")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args); err != nil {
				return err
			}
			if keyspace == "" || shard == "" || typ == "" || address == "" {
				return usageErrorf("--keyspace, --shard, --type and --address are required")
			}
			tt := topo.TabletType(typ)
			if tt != topo.TabletPrimary && tt != topo.TabletReplica {
				return usageErrorf("--type %q: want primary or replica", typ)
			}
			host, portText, err := net.SplitHostPort(address)
			if err != nil {
				return usageErrorf("--address %q: %v", address, err)
			}
			port, err := strconv.Atoi(portText)
			if err != nil {
				return usageErrorf("--address %q: port %q is not a number", address, portText)
			}
			if uid > 1<<32-1 {
				return usageErrorf("--uid %d: want a number below 2^32", uid)
			}
			s, err := e.Store(ctx)
			if err != nil {
				return err
			}
			t := &topo.Tablet{Alias: topo.TabletAlias{Cell: cell, UID: uint32(uid)}, Keyspace: keyspace, Shard: shard, Type: tt, Host: host, Port: port}
			if err := s.RegisterTablet(ctx, t); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "added tablet %s: %s/%s %s at %s\n", t.Alias, keyspace, shard, tt, t.Addr())
			return nil
		},
	}
}

// healthColumns renders a tablet's health record for tablet list:
// reachable or not, replication threads, lag, time of the check. No
// record (no controller has checked the tablet yet) is "unknown".
func healthColumns(h *topo.TabletHealth) string {
	if h == nil {
		return "unknown\t-\t-\t-"
	}
	health := "ok"
	switch {
	case !h.Reachable:
		health = "unreachable"
	case h.ReadOnly && !h.Replicating:
		health = "read_only"
	}
	lag := "-"
	if h.LagSeconds != nil {
		lag = strconv.FormatInt(*h.LagSeconds, 10) + "s"
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s", health, h.Replication(), lag, h.CheckedAt.UTC().Format(time.RFC3339))
}
