package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/topo"
)

// reshardFlags configure the resharding controller that `serve` and `up`
// run beside the gateway (leader-elected among them).
type reshardFlags struct {
	enabled   bool
	chunkRows int
	leaseTTL  int
}

func (f *reshardFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.enabled, "reshard-controller", true, "take part in the election of the resharding controller, which copies the rows of `shardctl reshard create` workflows and catches the targets up from the sources' binlogs")
	fs.IntVar(&f.chunkRows, "reshard-copy-chunk-rows", 5000, "rows the resharding copy reads and writes at a time")
	fs.IntVar(&f.leaseTTL, "reshard-lease-ttl", 10, "seconds after the leading resharding controller dies before another takes over")
}

// start runs the resharding controller (a reshard.Runner, leader-elected
// among the gateways of the topology) until the returned stop is called
// (stop waits for it to end; call it before closing store); with
// --reshard-controller=false it runs nothing. id names this process in
// the election. The controller logs in to the instances with
// g.adminConn (--admin-db-user, else --db-user).
// `serve` and `up` start it beside the failover controller.
func (f *reshardFlags) start(ctx context.Context, store *topo.Store, g *gatewayFlags, id string, logger *slog.Logger) (stop func()) {
	if !f.enabled {
		return func() {}
	}
	host, _ := os.Hostname()
	r := reshard.NewRunner(reshard.Config{
		Store:     store,
		Conn:      withLogger(g.adminConn(), logger),
		ID:        fmt.Sprintf("%s-%d-%s", host, os.Getpid(), id),
		LeaseTTL:  f.leaseTTL,
		ChunkRows: f.chunkRows,
		Logger:    logger,
	})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
