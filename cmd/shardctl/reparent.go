package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/shardgate/shardgate/failover"
)

// reparentCommands write a reparent intention to etcd and wait for the
// elected failover controller (in a `shardgate serve` or `up`) to carry
// it out, printing the outcome.
func reparentCommands() []*command {
	var keyspace, shard, newPrimary, ignoreReplicas string
	var wait time.Duration
	common := func(fs *flag.FlagSet) {
		fs.StringVar(&keyspace, "keyspace", "", "keyspace of the shard")
		fs.StringVar(&shard, "shard", "", "the shard's key range, e.g. -80")
		fs.StringVar(&newPrimary, "new-primary", "", "alias of the replica to promote (e.g. zone1-0000000101); default: the most advanced replica")
		fs.DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for the controller to finish")
	}
	emergencyFlags := func(fs *flag.FlagSet) {
		common(fs)
		fs.StringVar(&ignoreReplicas, "ignore-replicas", "", "comma-separated aliases of replicas to go on without if they do not answer "+
			"(by default the failover waits for every replica: a silent one may hold an acknowledged write the others lack)")
	}
	run := func(kind failover.ReparentKind) func(ctx context.Context, e *env, args []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args); err != nil {
				return err
			}
			if keyspace == "" || shard == "" {
				return usageErrorf("--keyspace and --shard are required")
			}
			s, err := e.Store(ctx)
			if err != nil {
				return err
			}
			r := &failover.Reparent{Kind: kind, Keyspace: keyspace, Shard: shard, NewPrimary: newPrimary}
			if ignoreReplicas != "" {
				r.IgnoreReplicas = strings.Split(ignoreReplicas, ",")
			}
			if err := failover.RequestReparent(ctx, s, r); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s reparent %s of %s/%s requested; waiting for the failover controller ...\n", kind, r.ID, keyspace, shard)
			wctx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			done, err := failover.WaitReparent(wctx, s, keyspace, shard, r.ID)
			if err != nil {
				// Not taken up: withdrawn, so it does not run later by surprise.
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				if ok, cerr := failover.CancelReparent(cctx, s, keyspace, shard, r.ID, "withdrawn: no controller took it within --wait"); ok && cerr == nil {
					return fmt.Errorf("%w; no failover controller took the request, withdrawn (is a shardgate with --failover running?)", err)
				}
				return fmt.Errorf("%w (the controller is still carrying it out: see shardctl recoveries list)", err)
			}
			if done.State != failover.ReparentDone {
				return fmt.Errorf("%s reparent of %s/%s failed: %s", kind, keyspace, shard, done.Error)
			}
			fmt.Fprintf(e.stdout, "%s/%s: primary %s -> %s\n", keyspace, shard, done.OldPrimary, done.Promoted)
			if kind == failover.PlannedReparent {
				fmt.Fprintf(e.stdout, "writes held for %s\n", done.Stall.Round(time.Millisecond))
			}
			return nil
		}
	}
	return []*command{
		{
			group: "reparent", verb: "planned",
			args:    "--keyspace KS --shard RANGE [--new-primary ALIAS]",
			summary: "move a shard's primary to a replica with no write lost: writes held in the gateways, old primary read-only, new one caught up, switch",
			flags:   common,
			run:     run(failover.PlannedReparent),
		},
		{
			group: "reparent", verb: "emergency",
			args:    "--keyspace KS --shard RANGE [--new-primary ALIAS] [--ignore-replicas ALIAS,...]",
			summary: "fail a shard over now, its primary presumed dead: promote the most advanced replica (the one named must be it)",
			flags:   emergencyFlags,
			run:     run(failover.EmergencyReparent),
		},
	}
}
