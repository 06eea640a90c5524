package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/topo"
)

// failoverFlags configure the failover controller that `serve` and `up`
// run beside the gateway (leader-elected among them).
type failoverFlags struct {
	enabled     bool
	detectAfter time.Duration
	dampWindow  time.Duration
}

func (f *failoverFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.enabled, "failover", true, "take part in the election of the failover controller, which promotes a replica when a shard's primary dies")
	fs.DurationVar(&f.detectAfter, "failover-detect-after", failover.DefaultDetectAfter, "how long a primary must fail every health check before it is failed over")
	fs.DurationVar(&f.dampWindow, "failover-damp-window", failover.DefaultDampWindow, "no second failover of a shard within this long of the last one")
}

// start runs the failover controller until the returned stop is called
// (stop waits for it to end); with --failover=false it runs nothing. id
// names this process in the election. The controller logs in to the
// instances with g.adminConn (--admin-db-user, else --db-user).
func (f *failoverFlags) start(ctx context.Context, store *topo.Store, g *gatewayFlags, id string, logger *slog.Logger) (stop func(), err error) {
	if !f.enabled {
		return func() {}, nil
	}
	host, _ := os.Hostname()
	ctrl, err := failover.New(failover.Config{
		Store:       store,
		Backend:     g.adminConn(),
		DetectAfter: f.detectAfter,
		DampWindow:  f.dampWindow,
		ID:          fmt.Sprintf("%s-%d-%s", host, os.Getpid(), id),
		Logger:      logger,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctrl.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
