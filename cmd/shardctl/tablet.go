package main

import (
	"context"
	"fmt"
)

func tabletCommands() []*command {
	return []*command{{
		group: "tablet", verb: "list",
		summary: "list tablets by alias",
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
			w := e.table("ALIAS", "KEYSPACE", "SHARD", "TYPE", "ADDRESS")
			for _, t := range tablets {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Alias, t.Keyspace, t.Shard, t.Type, t.Addr())
			}
			return w.Flush()
		},
	}}
}
