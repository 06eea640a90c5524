package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/twopc"
)

// TwoPCConfig configures transactions: the default mode, the two-phase
// commit coordinator and the resolver.
type TwoPCConfig struct {
	// TransactionMode is the sessions' default transaction_mode:
	// "twopc" (when empty), "multi" or "single".
	TransactionMode string
	// IdleTimeout rolls back a transaction whose client sends nothing for
	// this long (and closes the client connection); 0 never does.
	IdleTimeout time.Duration
	// LeaseTTL is the TTL in seconds of the coordinator's and the
	// resolver's etcd leases: how long after this process dies its
	// prepared transactions are resolved. 0 means 10.
	LeaseTTL int
	// ResolveInterval is how often the elected resolver scans; 0 means 2 s.
	ResolveInterval time.Duration
	// DisableResolver keeps this gateway out of the resolver election.
	DisableResolver bool
	// Failpoint is passed to twopc.Config.Failpoint (crash tests only).
	Failpoint func(point string)
}

// etcdTopo is what the coordinator needs of the TopoStore: *topo.Store
// has it.
type etcdTopo interface {
	Client() *clientv3.Client
	Root() string
}

// startTwoPC makes the coordinator and starts the resolver (its goroutine
// is owned by the server and stops with s.ctx). Without an etcd-backed
// topology there is no coordinator, and twopc mode is refused.
func (s *Server) startTwoPC(ctx context.Context) error {
	et, ok := s.cfg.Topo.(etcdTopo)
	if !ok {
		if s.txMode == modeTwoPC {
			return errors.New("gateway: transaction_mode twopc needs an etcd-backed topology")
		}
		return nil
	}
	cfg := s.cfg.TwoPC
	coord, err := twopc.NewCoordinator(ctx, twopc.Config{
		Client: et.Client(), Root: et.Root(), LeaseTTL: cfg.LeaseTTL, Logger: s.logger, Failpoint: cfg.Failpoint,
	})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	s.coord = coord
	if cfg.DisableResolver {
		return nil
	}
	rcfg := twopc.ResolveConfig{
		Client: et.Client(),
		Root:   et.Root(),
		Conn:   tablet.ConnConfig{User: s.cfg.Backend.User, Password: s.cfg.Backend.Password},
		Logger: s.logger,
		Primaries: func(context.Context) ([]twopc.Primary, error) {
			return primaries(s.topo.current.Load().snap), nil
		},
	}
	res := twopc.NewResolver(rcfg, s.cfg.ListenAddr, cfg.ResolveInterval)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		res.Run(s.ctx, cfg.LeaseTTL)
	}()
	return nil
}

// stopTwoPC revokes the coordinator's lease once no session commits.
func (s *Server) stopTwoPC() {
	if s.coord != nil {
		_ = s.coord.Close()
	}
}

// primaries lists the primaries of a routing snapshot.
func primaries(snap *topo.Snapshot) []twopc.Primary {
	if snap == nil {
		return nil
	}
	var out []twopc.Primary
	for _, t := range snap.Tablets {
		if t.Type == topo.TabletPrimary {
			out = append(out, twopc.Primary{Keyspace: t.Keyspace, Shard: t.Shard, Addr: t.Addr()})
		}
	}
	return out
}
