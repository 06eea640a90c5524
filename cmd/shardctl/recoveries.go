package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/failover"
)

func recoveriesCommands() []*command {
	return []*command{{
		group: "recoveries", verb: "list",
		summary: "list the failovers the controller carried out, oldest first",
		run: func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args); err != nil {
				return err
			}
			s, err := e.Store(ctx)
			if err != nil {
				return err
			}
			recs, err := failover.ListRecoveries(ctx, s)
			if err != nil {
				return err
			}
			w := e.table("TIME", "KEYSPACE", "SHARD", "OLD PRIMARY", "NEW PRIMARY", "DOWN FOR", "PROMOTION", "REASON")
			for _, r := range recs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.UTC().Format(time.RFC3339Nano), r.Keyspace, r.Shard,
					r.OldPrimary, r.NewPrimary, r.Time.Sub(r.FailedAt).Round(time.Millisecond), r.Duration.Round(time.Millisecond), r.Reason)
			}
			return w.Flush()
		},
	}}
}
