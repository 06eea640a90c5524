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
	"github.com/shardgate/shardgate/schema"
	"github.com/shardgate/shardgate/topo"
)

// gatewayFlags are the flags `serve` and `up` share.
type gatewayFlags struct {
	listen     string
	dbUser     string
	dbPassword string
	dbAccess   shardAccessFlags
	poolSize   int
	user       string
	password   string
	logLevel   string
	security   securityFlags
	limits     limitFlags

	txMode          string
	txIdleTimeout   time.Duration
	queryTimeout    time.Duration
	twopcLeaseTTL   int
	twopcResolve    time.Duration
	twopcCrashAfter string
	twopcResolver   bool

	statusAddr string
	obs        obsFlags
	planCache  int

	maxRows   int
	maxPacket int

	replicaLagLimit time.Duration
	// schemaTrack is --schema-track-interval (gateway.Config.SchemaTrackInterval).
	schemaTrack time.Duration

	failover failoverFlags
	reshard  reshardFlags
	buffer   bufferFlags

	// shardPrepared is --shard-prepared-statements
	// (gateway.BackendConfig.PreparedStatements).
	shardPrepared int
}

func (g *gatewayFlags) register(fs *flag.FlagSet, defaultLogLevel string) {
	fs.StringVar(&g.listen, "listen", "127.0.0.1:15306", "MySQL protocol listen address")
	fs.StringVar(&g.dbUser, "db-user", "root", "user the gateway logs in to the MySQL instances with: give it only the rights docs/SECURITY.md lists, never root (up: the cluster's shardgate_app unless set)")
	fs.StringVar(&g.dbPassword, "db-password", "", "password for --db-user")
	g.dbAccess.register(fs)
	fs.IntVar(&g.poolSize, "pool-size", 64, "connections per tablet")
	fs.IntVar(&g.shardPrepared, "shard-prepared-statements", 0, "server-side prepared statements each shard connection keeps for clients' prepared SELECTs (0: the default, 64; -1: run them on the shards as text)")
	fs.StringVar(&g.user, "user", "", "a bootstrap user with every privilege, besides the users of `shardctl user add` (up: root, without a password)")
	fs.StringVar(&g.password, "password", "", "password for --user")
	fs.StringVar(&g.logLevel, "log-level", defaultLogLevel, "debug, info, warn or error")
	fs.IntVar(&g.maxRows, "max-buffered-rows", gateway.DefaultMaxBufferedRows, "rows one statement may hold in the gateway's memory (results it cannot stream); more is error 1041")
	fs.IntVar(&g.maxPacket, "max-allowed-packet", gateway.DefaultMaxAllowedPacket, "largest statement (bytes) a client may send; more is error 1153")
	g.security.register(fs)
	g.limits.register(fs)
	fs.StringVar(&g.txMode, "transaction-mode", "twopc", "default transaction_mode of sessions: twopc (atomic), multi (shard by shard) or single")
	fs.DurationVar(&g.queryTimeout, "query-timeout", defaultQueryTimeout, "longest a statement may run, e.g. 30s; it is then killed on its shards and answers error 1969 (a session's max_statement_time / max_execution_time may set less); 0 no limit")
	fs.DurationVar(&g.txIdleTimeout, "transaction-idle-timeout", defaultTxIdleTimeout, "roll back a transaction (and close its client) idle this long; 0 never")
	fs.IntVar(&g.twopcLeaseTTL, "twopc-lease-ttl", 10, "seconds after this gateway dies before its prepared transactions are resolved")
	fs.DurationVar(&g.twopcResolve, "twopc-resolve-interval", 2*time.Second, "how often the elected 2PC resolver scans the primaries")
	fs.BoolVar(&g.twopcResolver, "twopc-resolver", true, "take part in the election of the 2PC resolver")
	fs.StringVar(&g.twopcCrashAfter, "twopc-crash-after", "", "TESTS ONLY: SIGKILL this process at a point of a multi-shard commit ("+strings.Join(crashPoints, ", ")+"); honoured only with "+failpointEnv+"=1")
	fs.StringVar(&g.statusAddr, "status-addr", "", "HTTP address of the status port: console at /, JSON API at /api/, Prometheus /metrics (and /debug/pprof/ with --pprof); empty: off (up: "+upStatusAddr+")")
	g.obs.register(fs)
	fs.DurationVar(&g.replicaLagLimit, "replica-lag-limit", gateway.DefaultReplicaLagLimit, "a replica further behind its primary than this (or with replication stopped, or unreachable) serves no reads; they go to another replica or the primary")
	fs.DurationVar(&g.schemaTrack, "schema-track-interval", schema.DefaultInterval, "how often the elected schema tracker re-reads the sharded keyspaces' columns (DDL through a gateway refreshes them at once); a negative value turns the tracker off")
	fs.IntVar(&g.planCache, "plan-cache-entries", 0, "plans kept in the plan cache (0: default 5000, -1: no plan cache)")
	g.failover.register(fs)
	g.reshard.register(fs)
	g.buffer.register(fs)
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
		Logger:     logger,
		TwoPC: gateway.TwoPCConfig{
			TransactionMode: g.txMode,
			IdleTimeout:     g.txIdleTimeout,
			LeaseTTL:        g.twopcLeaseTTL,
			ResolveInterval: g.twopcResolve,
			DisableResolver: !g.twopcResolver,
			Failpoint:       crashFailpoint(g.twopcCrashAfter, logger),
		},
		PlanCacheEntries:    g.planCache,
		MaxBufferedRows:     g.maxRows,
		QueryTimeout:        g.queryTimeout,
		MaxAllowedPacket:    g.maxPacket,
		ReplicaLagLimit:     g.replicaLagLimit,
		SchemaTrackInterval: g.schemaTrack,
	}
	if g.replicaLagLimit <= 0 {
		return cfg, fmt.Errorf("--replica-lag-limit %s: want a positive duration, e.g. 30s", g.replicaLagLimit)
	}
	if g.user != "" {
		cfg.Users = map[string]string{g.user: g.password}
	} else {
		cfg.NoDefaultUser = true // only the users in etcd
	}
	g.limits.apply(&cfg)
	g.buffer.apply(&cfg)
	g.dbAccess.apply(&cfg)
	cfg.Backend.PreparedStatements = g.shardPrepared
	return cfg, g.security.apply(&cfg)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shardgate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var g gatewayFlags
	g.register(fs, "info")
	endpoints := fs.String("topo-endpoints", topo.DefaultClientAddr, "comma-separated etcd endpoints")
	root := fs.String("topo-root", "/shardgate", "etcd key prefix of the topology")
	cell := fs.String("cell", "zone1", "the cell this gateway runs in; replica reads prefer its tablets")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := g.check(); err != nil {
		fmt.Fprintf(stderr, "shardgate serve: %v\n", err)
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
	if err := checkUsersConfigured(ctx, store, cfg); err != nil {
		fmt.Fprintf(stderr, "shardgate serve: %v\n", err)
		return 2
	}
	cfg.Cell = *cell
	stopFailover, err := g.failover.start(ctx, store, &g, g.listen, logger)
	if err != nil {
		fmt.Fprintf(stderr, "shardgate: failover: %v\n", err)
		return 2
	}
	defer stopFailover()
	defer g.reshard.start(ctx, store, &g, g.listen, logger)()
	return runGateway(ctx, cfg, g.status(store), stdout, stderr, nil)
}

// status is the status port's config; no address: none.
func (g *gatewayFlags) status(store *topo.Store) statusPort {
	return statusPort{addr: g.statusAddr, obs: g.obs, store: store, user: g.user, password: g.password}
}

// runGateway serves until ctx is cancelled (Ctrl-C); serving, if not nil,
// is told the address once clients can connect. status, if it has an
// address, serves the status port (console, API, metrics) over HTTP.
func runGateway(ctx context.Context, cfg gateway.Config, status statusPort, stdout, stderr io.Writer, serving func(addr string)) int {
	closeLog, err := status.obs.apply(&cfg, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "shardgate: %v\n", err)
		return 2
	}
	defer closeLog()
	srv, err := gateway.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "shardgate: %v\n", err)
		return 1
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "shardgate: %v\n", err)
		return 1
	}
	if status.addr != "" {
		stop, err := serveStatusPort(status, srv, stdout)
		if err != nil {
			srv.Close()
			fmt.Fprintf(stderr, "shardgate: status: %v\n", err)
			return 1
		}
		defer stop()
	}
	fmt.Fprintf(stdout, "shardgate: serving MySQL protocol on %s\n", srv.Addr())
	if serving != nil {
		serving(srv.Addr())
	}
	<-ctx.Done()
	srv.Close()
	return 0
}
