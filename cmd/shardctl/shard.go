package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/shardgate/shardgate/topo"
)

func shardCommands() []*command {
	var keyspace string
	return []*command{{
		group: "shard", verb: "list", args: "[--keyspace KS]",
		summary: "list shards in key order, with their primaries",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&keyspace, "keyspace", "", "only this keyspace")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args); err != nil {
				return err
			}
			s, err := e.Store(ctx)
			if err != nil {
				return err
			}
			names := []string{keyspace}
			if keyspace == "" {
				kss, err := s.ListKeyspaces(ctx)
				if err != nil {
					return err
				}
				names = names[:0]
				for _, ks := range kss {
					names = append(names, ks.Name)
				}
			}
			var shards []*topo.Shard
			for _, ks := range names {
				list, err := s.ListShards(ctx, ks)
				if err != nil {
					return err
				}
				shards = append(shards, list...)
			}
			w := e.table("KEYSPACE", "SHARD", "PRIMARY")
			for _, sh := range shards {
				primary := "-"
				if sh.PrimaryAlias != nil {
					primary = sh.PrimaryAlias.String()
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", sh.Keyspace, sh.Name, primary)
			}
			return w.Flush()
		},
	}}
}
