package schema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// DefaultInterval is how often the elected tracker re-reads every sharded
// keyspace: the longest a column added around the gateways stays unknown.
const DefaultInterval = 10 * time.Second

// Store is what the tracker needs of the topology: *topo.Store.
type Store interface {
	Client() *clientv3.Client
	Root() string
	GetTrackedSchema(ctx context.Context, keyspace string) (*topo.TrackedSchema, int64, error)
	SaveTrackedSchema(ctx context.Context, keyspace string, ts *topo.TrackedSchema, readRev int64) (bool, int64, error)
}

var _ Store = (*topo.Store)(nil)

// Config configures a Tracker.
type Config struct {
	Store Store
	// Snapshot returns the current topology (the gateway's routing
	// snapshot): which keyspaces are sharded and where their primaries are.
	Snapshot func() *topo.Snapshot
	// Conn is how the tracker logs in to the primaries (Addr is set per
	// shard; DB is not used).
	Conn tablet.ConnConfig
	// Interval between passes (DefaultInterval when 0).
	Interval time.Duration
	// ID names this tracker in the election.
	ID     string
	Logger *slog.Logger
}

// Tracker is the leader-elected refresh loop. Run owns its goroutine (the
// caller's) and the election session; both end when Run's ctx ends.
type Tracker struct{ cfg Config }

// NewTracker returns a tracker; Run starts it.
func NewTracker(cfg Config) *Tracker {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Tracker{cfg: cfg}
}

// leaderPrefix is the election's key prefix.
func leaderPrefix(s Store) string { return s.Root() + "/schema/leader" }

// Run campaigns and, once elected, refreshes every sharded keyspace each
// Interval until ctx ends (it then resigns) or its lease is lost (it
// campaigns again).
func (t *Tracker) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := t.lead(ctx); err != nil && ctx.Err() == nil {
			t.cfg.Logger.Warn("schema: tracker", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(t.cfg.Interval):
			}
		}
	}
}

func (t *Tracker) lead(ctx context.Context) error {
	sess, err := concurrency.NewSession(t.cfg.Store.Client(), concurrency.WithTTL(10), concurrency.WithContext(ctx))
	if err != nil {
		return err
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, leaderPrefix(t.cfg.Store))
	if err := el.Campaign(ctx, t.cfg.ID); err != nil {
		return err
	}
	t.cfg.Logger.Info("schema: tracker elected", "id", t.cfg.ID)
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = el.Resign(rctx)
	}()
	tick := time.NewTicker(t.cfg.Interval)
	defer tick.Stop()
	for {
		t.Pass(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-sess.Done():
			return errors.New("schema: tracker lost its election lease")
		case <-tick.C:
		}
	}
}

// Pass refreshes every sharded keyspace once; failures are logged (the
// next pass tries again).
func (t *Tracker) Pass(ctx context.Context) {
	snap := t.cfg.Snapshot()
	if snap == nil {
		return
	}
	for _, ks := range slices.Sorted(maps.Keys(snap.Keyspaces)) {
		if !snap.Keyspaces[ks].Sharded {
			continue
		}
		shard, addr, ok := Source(snap, ks)
		if !ok {
			continue
		}
		if _, err := t.refresh(ctx, ks, shard, addr); err != nil && ctx.Err() == nil {
			t.cfg.Logger.Warn("schema: refresh failed", "keyspace", ks, "shard", shard, "err", err)
		}
	}
}

func (t *Tracker) refresh(ctx context.Context, ks, shard, addr string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cc := t.cfg.Conn
	cc.Addr, cc.DB, cc.Logger = addr, "", t.cfg.Logger
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return Refresh(ctx, t.cfg.Store, conn, ks, shard)
}

// Refresh reads keyspace's columns through q (a connection to shard's
// primary) and saves them, unless another writer saved a record between
// its read of the record and its read of the shard: it then starts over
// (a few times). It returns the store's revision after the save, which
// a gateway's snapshot must reach before it plans with the new columns.
func Refresh(ctx context.Context, store Store, q Querier, keyspace, shard string) (int64, error) {
	var last error
	for range 5 {
		_, readRev, err := store.GetTrackedSchema(ctx, keyspace)
		if err != nil {
			return 0, err
		}
		tables, err := Load(ctx, q, keyspace)
		if err != nil {
			return 0, err
		}
		_, rev, err := store.SaveTrackedSchema(ctx, keyspace, &topo.TrackedSchema{Tables: tables, Shard: shard, ReadAt: time.Now().UTC()}, readRev)
		if err == nil {
			return rev, nil
		}
		if !errors.Is(err, topo.ErrBadVersion) {
			return 0, err
		}
		last = err
	}
	return 0, fmt.Errorf("schema: refresh of %s: %w", keyspace, last)
}
