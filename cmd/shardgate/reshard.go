package main

import (
	"context"
	"flag"
	"log/slog"
	"sync"

	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// reshardFlags configure the resharding controller a gateway may run.
// `serve` and `up` register them beside gatewayFlags and call
// startReshardRunner once the topology is open.
type reshardFlags struct {
	enabled   bool
	chunkRows int
	leaseTTL  int
}

func (f *reshardFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.enabled, "reshard-controller", true, "take part in the election of the resharding controller, which copies the rows of `shardctl reshard create` workflows")
	fs.IntVar(&f.chunkRows, "reshard-copy-chunk-rows", 5000, "rows the resharding copy reads and writes at a time")
	fs.IntVar(&f.leaseTTL, "reshard-lease-ttl", 10, "seconds after the leading resharding controller dies before another takes over")
}

// startReshardRunner runs the resharding controller (a reshard.Runner,
// leader-elected among the gateways of the topology) on a goroutine of
// its own, logging in to the shards as dbUser. stop cancels it and waits
// for it to end; call it before closing store. With the controller
// disabled it starts nothing.
func startReshardRunner(ctx context.Context, f reshardFlags, store *topo.Store, dbUser, dbPassword, id string, logger *slog.Logger) (stop func()) {
	if !f.enabled {
		return func() {}
	}
	r := reshard.NewRunner(reshard.Config{
		Store:     store,
		Conn:      tablet.ConnConfig{User: dbUser, Password: dbPassword, Logger: logger},
		ID:        id,
		LeaseTTL:  f.leaseTTL,
		ChunkRows: f.chunkRows,
		Logger:    logger,
	})
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.Run(ctx)
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
