package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/shardgate/shardgate/topo"
)

func keyspaceCommands() []*command {
	var sharded bool
	return []*command{
		{
			group: "keyspace", verb: "create", args: "NAME [--sharded]",
			summary: "create a keyspace",
			flags: func(fs *flag.FlagSet) {
				fs.BoolVar(&sharded, "sharded", false, "the keyspace is sharded")
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args, "NAME"); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				if err := s.CreateKeyspace(ctx, topo.Keyspace{Name: args[0], Sharded: sharded}); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "created keyspace %s (%s)\n", args[0], shardedWord(sharded))
				return nil
			},
		},
		{
			group: "keyspace", verb: "list",
			summary: "list keyspaces",
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				kss, err := s.ListKeyspaces(ctx)
				if err != nil {
					return err
				}
				w := e.table("KEYSPACE", "SHARDED")
				for _, ks := range kss {
					fmt.Fprintf(w, "%s\t%v\n", ks.Name, ks.Sharded)
				}
				return w.Flush()
			},
		},
	}
}

func shardedWord(sharded bool) string {
	if sharded {
		return "sharded"
	}
	return "unsharded"
}
