package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/topo"
)

// gatewayFlags are the flags `serve` and `up` share.
type gatewayFlags struct {
	listen     string
	dbUser     string
	dbPassword string
	poolSize   int
	user       string
	password   string
	logLevel   string
	security   securityFlags
	maxRows    int
	maxPacket  int
}

func (g *gatewayFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.listen, "listen", "127.0.0.1:15306", "MySQL protocol listen address")
	fs.StringVar(&g.dbUser, "db-user", "root", "user the gateway logs in to the MySQL instances with")
	fs.StringVar(&g.dbPassword, "db-password", "", "password for --db-user")
	fs.IntVar(&g.poolSize, "pool-size", 64, "connections per tablet")
	fs.StringVar(&g.user, "user", "root", "user clients log in to the gateway with")
	fs.StringVar(&g.password, "password", "", "password for --user")
	fs.StringVar(&g.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.IntVar(&g.maxRows, "max-buffered-rows", gateway.DefaultMaxBufferedRows, "rows one statement may hold in the gateway's memory (results it cannot stream); more is error 1041")
	fs.IntVar(&g.maxPacket, "max-allowed-packet", gateway.DefaultMaxAllowedPacket, "largest statement (bytes) a client may send; more is error 1153")
	g.security.register(fs)
}

func (g *gatewayFlags) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func (g *gatewayFlags) config(store gateway.TopoStore, logger *slog.Logger) (gateway.Config, error) {
	cfg := gateway.Config{
		ListenAddr: g.listen,
		Topo:       store,
		Backend:    gateway.BackendConfig{User: g.dbUser, Password: g.dbPassword, PoolSize: g.poolSize, IdleTimeout: 5 * time.Minute},
		Users:      map[string]string{g.user: g.password},
		Logger:     logger,

		MaxBufferedRows:  g.maxRows,
		MaxAllowedPacket: g.maxPacket,
	}
	return cfg, g.security.apply(&cfg)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shardgate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var g gatewayFlags
	g.register(fs)
	endpoints := fs.String("topo-endpoints", topo.DefaultClientAddr, "comma-separated etcd endpoints")
	root := fs.String("topo-root", "/shardgate", "etcd key prefix of the topology")
	cell := fs.String("cell", "zone1", "the cell this gateway runs in; replica reads prefer its tablets")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := g.logger(stderr)
	store, err := topo.Open(ctx, topo.Config{Endpoints: strings.Split(*endpoints, ","), Root: *root, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "shardgate: topology: %v\n", err)
		return 1
	}
	defer store.Close()
	cfg, err := g.config(store, logger)
	if err != nil {
		fmt.Fprintf(stderr, "shardgate: %v\n", err)
		return 2
	}
	cfg.Cell = *cell
	return runGateway(ctx, cfg, stdout, stderr, nil)
}

// runGateway serves until ctx is cancelled (Ctrl-C); serving, if not nil,
// is told the address once clients can connect.
func runGateway(ctx context.Context, cfg gateway.Config, stdout, stderr io.Writer, serving func(addr string)) int {
	srv, err := gateway.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "shardgate: %v\n", err)
		return 1
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "shardgate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "shardgate: serving MySQL protocol on %s\n", srv.Addr())
	if serving != nil {
		serving(srv.Addr())
	}
	<-ctx.Done()
	srv.Close()
	return 0
}
