package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo"
)

func up(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shardgate up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var g gatewayFlags
	g.register(fs, "warn") // keep the banner readable
	dataDir := fs.String("data-dir", ".cluster", "where the cluster keeps etcd's and every mariadbd's data; a restart with the same directory keeps all rows")
	etcdAddr := fs.String("etcd-addr", topo.DefaultClientAddr, "embedded etcd client address")
	replicas := fs.Int("replicas", 1, "replicas per shard")
	restartDelay := fs.Duration("restart-delay", 0, "how long a local mariadbd that died stays down before it is restarted; 0: --failover-detect-after plus 3s with failover on (so a dead primary is replaced first and comes back as a replica), 1s with --failover=false")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	defaultStatusAddr(fs, &g)
	if g.user == "" {
		// The local demo's user: root without a password, every privilege.
		g.user = "root"
	}
	logger := g.logger(stderr)
	if _, err := g.config(nil, logger); err != nil {
		// Bad TLS or auth flags: say so before starting anything.
		fmt.Fprintf(stderr, "shardgate up: %v\n", err)
		return 2
	}

	cfg := localcluster.Demo(*dataDir)
	cfg.EtcdAddr = *etcdAddr
	cfg.Replicas = *replicas
	cfg.Logger = logger
	fmt.Fprintf(stdout, "shardgate: starting the local cluster in %s ...\n", *dataDir)
	start := time.Now()
	cluster, err := localcluster.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "shardgate up: %v\n", err)
		return 1
	}
	defer func() {
		fmt.Fprintln(stdout, "shardgate: stopping the local cluster ...")
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cluster.Stop(stopCtx); err != nil {
			fmt.Fprintf(stderr, "shardgate up: stop: %v\n", err)
		}
	}()
	fmt.Fprintf(stdout, "shardgate: %d MySQL instances and etcd up in %s\n", len(cluster.Instances), time.Since(start).Round(time.Millisecond))
	banner := func(addr string) {
		host, port, _ := net.SplitHostPort(addr)
		fmt.Fprintf(stdout, `
Connect:   mariadb -h%s -P%s -u%s service
Users:     %s
Keyspaces: global (unsharded), service (4 shards: -40 40-80 80-c0 c0-, hash vindex)
Operate:   bin/shardctl --topo-endpoints %s keyspace list
Stop:      Ctrl-C
`, host, port, g.user, upUserNote(g), strings.Join(cluster.Endpoints(), ","))
	}
	gwCfg, err := g.config(cluster.Store, logger)
	if err != nil {
		fmt.Fprintf(stderr, "shardgate up: %v\n", err)
		return 2
	}
	if g.password == "" && !gwCfg.InsecureNoAuth {
		logger.Warn("the local demo's user has no password and every privilege: anyone who can reach the gateway's address may do anything; use serve with `shardctl user add` for real users", "user", g.user, "listen", g.listen)
	}
	if !flagSet(fs, "db-user") {
		// The gateway's traffic runs as the cluster's least-privileged
		// account; the controllers keep --db-user, root (g.adminConn).
		app := cluster.AppConn()
		gwCfg.Backend.User, gwCfg.Backend.Password = app.User, app.Password
	}
	// Stopped before the cluster (defers run last first), so that it
	// does not restart the instances the cluster's Stop stops.
	defer superviseCluster(ctx, cluster, supervisionDelay(*restartDelay, g.failover), logger)()
	// Stopped before the cluster (defers run last first), so that it
	// never mistakes the shutdown of the local instances for failures.
	stopFailover, err := g.failover.start(ctx, cluster.Store, &g, g.listen, logger)
	if err != nil {
		fmt.Fprintf(stderr, "shardgate up: failover: %v\n", err)
		return 2
	}
	defer stopFailover()
	defer g.reshard.start(ctx, cluster.Store, &g, g.listen, logger)()
	// Stopped before the cluster: it adds and stops instances of it.
	prov := &provisioner{cluster: cluster, conn: g.adminConn(),
		interval: 500 * time.Millisecond, logger: logger}
	stopProvisioner, err := prov.start(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "shardgate up: provisioner: %v\n", err)
		return 1
	}
	defer stopProvisioner()
	return runGateway(ctx, gwCfg, g.status(cluster.Store), stdout, stderr, banner)
}

// supervisionDelay is --restart-delay, or its default: with failover on,
// long enough for the controller to replace a dead primary first (its
// detection, a check interval, the promotion), so that a crashed primary
// comes back as a replica of its replacement instead of taking writes
// again; with failover off, a second.
func supervisionDelay(flag time.Duration, f failoverFlags) time.Duration {
	switch {
	case flag > 0:
		return flag
	case f.enabled:
		return f.detectAfter + 3*time.Second
	default:
		return localcluster.DefaultRestartDelay
	}
}

// superviseCluster restarts the cluster's mariadbds that die until the
// returned stop is called (stop waits for the supervision to end).
func superviseCluster(ctx context.Context, cluster *localcluster.Cluster, delay time.Duration, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		cluster.Supervise(ctx, localcluster.SuperviseConfig{RestartDelay: delay, Logger: logger})
	}()
	return func() {
		cancel()
		<-done
	}
}

// upUserNote is the banner's line about who may log in.
func upUserNote(g gatewayFlags) string {
	if g.security.insecureNoAuth {
		return "anyone, any password, every privilege (--insecure-no-auth)"
	}
	if g.password == "" {
		return g.user + " has NO PASSWORD and every privilege (a local demo); shardctl user add/grant adds real users"
	}
	return g.user + " has every privilege; shardctl user add/grant adds more users"
}
