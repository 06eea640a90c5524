package failover

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// Defaults of Config's durations.
const (
	DefaultCheckInterval  = 500 * time.Millisecond
	DefaultDetectAfter    = 2 * time.Second
	DefaultDampWindow     = 30 * time.Second
	DefaultCatchUpTimeout = 10 * time.Second
	DefaultLeaseTTL       = 5 // seconds
	DefaultHoldAckTimeout = 5 * time.Second
	DefaultHoldDrain      = 2 * time.Second
	DefaultHealthRefresh  = 10 * time.Second
)

// Config configures a Controller.
type Config struct {
	// Store is the topology the controller watches and changes; its etcd
	// also holds the election and the recoveries. Owned by the caller.
	Store *topo.Store
	// Backend is how the controller logs in to the MySQL instances (User,
	// Password; Addr is set per tablet). The account needs the privileges
	// to change replication and read_only.
	Backend tablet.ConnConfig
	// ReplicationUser and ReplicationPassword are the account replicas log
	// in to their primary with (default tablet.ReplicationUser and
	// tablet.ReplicationPassword, the local instances' account).
	ReplicationUser, ReplicationPassword string
	// CheckInterval is how often each primary is checked (default 500ms).
	// A check that takes longer than max(CheckInterval, 1s) fails.
	CheckInterval time.Duration
	// DetectAfter is how long a primary fails every check before it is
	// dead (default 2s).
	DetectAfter time.Duration
	// DampWindow: no second failover of a shard within this long of the
	// last one (default 30s), so a flapping shard doesn't bounce.
	DampWindow time.Duration
	// CatchUpTimeout bounds the wait for the chosen replica to apply its
	// relay log (default 10s); past it the failover is abandoned and tried
	// again.
	CatchUpTimeout time.Duration
	// HealthRefresh: a tablet's health record is written when it
	// changes, and at least this often (default 10s) so its checked-at
	// time and GTID position stay fresh. Keep it well under 30s: gateways
	// ignore records older than that (no controller checks the tablet).
	HealthRefresh time.Duration
	// ID names this process in the election (default host name and pid).
	ID string
	// LeaseTTL is the leadership lease in seconds (default 5): how long a
	// dead leader holds the role before another process takes over.
	LeaseTTL int
	// HoldAckTimeout bounds a planned reparent's wait for every live
	// gateway to acknowledge its hold (default 5s); past it the reparent
	// is abandoned, the hold released, nothing changed.
	HoldAckTimeout time.Duration
	// HoldDrain is how long a gateway waits for its statements in flight
	// on a held shard before acknowledging anyway (default 2s).
	HoldDrain time.Duration
	// Logger receives detections, failovers and fencing; nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Store == nil {
		return c, errors.New("failover: Config.Store is nil")
	}
	if c.ReplicationUser == "" {
		c.ReplicationUser, c.ReplicationPassword = tablet.ReplicationUser, tablet.ReplicationPassword
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = DefaultCheckInterval
	}
	if c.DetectAfter <= 0 {
		c.DetectAfter = DefaultDetectAfter
	}
	if c.DampWindow <= 0 {
		c.DampWindow = DefaultDampWindow
	}
	if c.CatchUpTimeout <= 0 {
		c.CatchUpTimeout = DefaultCatchUpTimeout
	}
	if c.HoldAckTimeout <= 0 {
		c.HoldAckTimeout = DefaultHoldAckTimeout
	}
	if c.HoldDrain <= 0 {
		c.HoldDrain = DefaultHoldDrain
	}
	if c.HealthRefresh <= 0 {
		c.HealthRefresh = DefaultHealthRefresh
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// checkTimeout bounds one check of a primary.
func (c Config) checkTimeout() time.Duration { return max(c.CheckInterval, time.Second) }
