package localcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// Defaults of SuperviseConfig.
const (
	DefaultRestartDelay = time.Second
	DefaultMaxBackoff   = 30 * time.Second
	superviseTick       = 250 * time.Millisecond
	// restartTimeout bounds one restart: crash recovery, then the logins.
	restartTimeout = 2 * time.Minute
)

// SuperviseConfig configures Cluster.Supervise.
type SuperviseConfig struct {
	// RestartDelay is how long an instance found dead stays down before
	// the first restart (default 1s). `shardgate up` makes it longer than
	// the failover controller takes to replace a dead primary, so that a
	// primary that crashed comes back as a replica of its replacement
	// rather than as the primary again.
	RestartDelay time.Duration
	// MaxBackoff bounds the wait between failed restarts, which doubles
	// from RestartDelay (default 30s).
	MaxBackoff time.Duration
	// Logger receives deaths and restarts (default the cluster's).
	Logger *slog.Logger
}

// downInstance is what Supervise knows of an instance it found dead.
type downInstance struct {
	since   time.Time     // when it was found dead
	next    time.Time     // the next restart attempt
	backoff time.Duration // the wait after the next failed attempt
}

// Supervise restarts the cluster's mariadbds that die (a crash, a SIGKILL,
// the OOM killer) until ctx ends, each after RestartDelay, waiting longer
// after each restart that fails. How an instance comes back depends on
// what the topology says of it then (see restart). A drained former
// primary that can't follow its shard's primary (it kept transactions
// the primary lacks) is rebuilt from the primary (see rebuild). It runs on the
// caller's goroutine, one restart at a time, and returns once ctx has
// ended and no restart is under way. Stop the supervision before
// Cluster.Stop, or it restarts what Stop stops.
func (c *Cluster) Supervise(ctx context.Context, cfg SuperviseConfig) {
	if cfg.RestartDelay <= 0 {
		cfg.RestartDelay = DefaultRestartDelay
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	log := cfg.Logger
	if log == nil {
		log = c.cfg.Logger
	}
	down := map[*Instance]*downInstance{}
	checked := map[*Instance]time.Time{}
	var lastRebuildPass time.Time
	tick := time.NewTicker(superviseTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if time.Since(lastRebuildPass) >= rebuildCheckEvery {
			lastRebuildPass = time.Now()
			if snap, err := c.Store.Snapshot(ctx); err == nil {
				c.rebuildErrant(ctx, snap, checked, log.Warn)
			}
		}
		for _, in := range c.instances() {
			if in.Mysqld.Running() {
				delete(down, in)
				continue
			}
			now := time.Now()
			d := down[in]
			if d == nil {
				log.Warn("localcluster: mariadbd is down; restarting it", "tablet", in.Alias, "shard", in.Keyspace+"/"+in.Shard, "in", cfg.RestartDelay)
				down[in] = &downInstance{since: now, next: now.Add(cfg.RestartDelay), backoff: cfg.RestartDelay}
				continue
			}
			if now.Before(d.next) {
				continue
			}
			role, err := c.restart(ctx, in)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				d.backoff = min(2*d.backoff, cfg.MaxBackoff)
				d.next = time.Now().Add(d.backoff)
				log.Error("localcluster: restarting mariadbd failed", "tablet", in.Alias, "err", err, "retry_in", d.backoff)
				continue
			}
			log.Warn("localcluster: mariadbd restarted", "tablet", in.Alias, "as", role, "down_for", time.Since(d.since).Round(time.Millisecond))
			delete(down, in)
		}
	}
}

// restart starts a dead instance again as the topology now has it:
//   - the shard's primary (no failover replaced it: failover is off, or
//     it came back first): a writable primary, its commits waiting for a
//     replica's acknowledgement if the shard has a replica; the replicas
//     reconnect by themselves (MASTER_CONNECT_RETRY);
//   - a replica: read-only, replicating from the shard's primary;
//   - anything else (drained: a former primary that was replaced): read-only
//     with its unacknowledged transactions discarded (Mysqld.StartDemoted),
//     for the failover controller to fence into a replica. Its type stays
//     what the controller last wrote, so no gateway sends it anything.
func (c *Cluster) restart(ctx context.Context, in *Instance) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, restartTimeout)
	defer cancel()
	snap, err := c.Store.Snapshot(ctx)
	if err != nil {
		return "", err
	}
	var primary, self *topo.Tablet
	hasReplica := false
	var named *topo.TabletAlias
	for _, sh := range snap.Shards[in.Keyspace] {
		if sh.Name == in.Shard {
			named = sh.PrimaryAlias
		}
	}
	for _, t := range snap.Tablets {
		if t.Keyspace != in.Keyspace || t.Shard != in.Shard {
			continue
		}
		switch {
		case t.Alias == in.Alias:
			self = t
		case named != nil && t.Alias == *named:
			primary = t
		case t.Type == topo.TabletReplica:
			hasReplica = true
		}
	}
	if self == nil {
		return "", fmt.Errorf("localcluster: tablet %s is not in the topology", in.Alias)
	}
	// Its data directory again, should a rebuild have stopped half-way.
	if err := in.Mysqld.Init(ctx); err != nil {
		return "", err
	}
	switch {
	case named != nil && *named == in.Alias:
		if err := in.Mysqld.Start(ctx); err != nil {
			return "", err
		}
		// Its my.cnf says how it waited when the cluster started; the shard
		// may have gained or lost replicas since (a failover made it
		// primary).
		return "primary", onInstance(ctx, in, func(conn *tablet.Conn) error {
			return tablet.SetSemiSync(ctx, conn, hasReplica)
		})
	case primary == nil:
		return "", errors.New("localcluster: its shard names no other primary to follow")
	case self.Type == topo.TabletReplica:
		if err := in.Mysqld.StartDemoted(ctx); err != nil {
			return "", err
		}
		return "replica of " + primary.Alias.String(), in.Mysqld.StartReplication(ctx, primary.Addr())
	default:
		if err := in.Mysqld.StartDemoted(ctx); err != nil {
			return "", err
		}
		return "read-only " + string(self.Type) + ", for the failover controller to fence", nil
	}
}

// onInstance runs f on a fresh root connection to the instance.
func onInstance(ctx context.Context, in *Instance, f func(*tablet.Conn) error) error {
	conn, err := tablet.Dial(ctx, in.Mysqld.ConnConfig())
	if err != nil {
		return err
	}
	defer conn.Close()
	return f(conn)
}
