package gateway

import (
	"context"
	"time"

	"github.com/shardgate/shardgate/topo"
)

// The gateway follows the tablet health records the failover controller
// keeps in the topology (topo.TabletHealth) with a watch of its own, and
// reads only from replicas whose record allows it (replica_select.go).

// DefaultReplicaLagLimit is Config.ReplicaLagLimit's default: a replica
// further behind than this serves no reads.
const DefaultReplicaLagLimit = 30 * time.Second

// healthStaleAfter: a health record not refreshed for this long is
// ignored, as if there were none. The controller refreshes every record
// at least every 10 s (failover.DefaultHealthRefresh); a record older
// than three refreshes means nobody checks the tablet any more (no
// controller runs), and the gateway then reads from the replica as it
// would without health checks rather than trust an old verdict forever.
const healthStaleAfter = 30 * time.Second

// healthSource is what the gateway needs of a topology to follow tablet
// health; *topo.Store has it. Without it, every replica serves.
type healthSource interface {
	WatchTabletHealth(ctx context.Context, fn func([]*topo.TabletHealth)) error
}

// healthView is one immutable set of health records, swapped in whole.
type healthView struct {
	byAlias map[topo.TabletAlias]*topo.TabletHealth
}

// record returns the tablet's health record, nil when there is none or
// it is stale.
func (v *healthView) record(alias topo.TabletAlias, now time.Time) *topo.TabletHealth {
	if v == nil {
		return nil
	}
	h := v.byAlias[alias]
	if h == nil || now.Sub(h.CheckedAt) > healthStaleAfter {
		return nil
	}
	return h
}

// watchHealth follows the health records until s.ctx ends; it is started
// by Start on a goroutine the server owns.
func (s *Server) watchHealth(src healthSource) {
	defer s.wg.Done()
	err := src.WatchTabletHealth(s.ctx, func(list []*topo.TabletHealth) {
		v := &healthView{byAlias: make(map[topo.TabletAlias]*topo.TabletHealth, len(list))}
		for _, h := range list {
			v.byAlias[h.Alias] = h
		}
		s.topo.health.Store(v)
	})
	if err != nil && s.ctx.Err() == nil {
		s.logger.Error("tablet health watch stopped", "err", err)
	}
}

// startHealthWatch starts watchHealth when the topology offers health.
func (s *Server) startHealthWatch() {
	if src, ok := s.cfg.Topo.(healthSource); ok {
		s.wg.Add(1)
		go s.watchHealth(src)
	}
}

// TabletStatus is a tablet as this gateway sees it: its topology record,
// its last health record, and whether the gateway sends it queries. Tablet
// and Health are shared with the gateway's routing: treat them as
// read-only.
type TabletStatus struct {
	Tablet *topo.Tablet
	// Health is the controller's last record; nil when there is none or it
	// is stale (then the gateway serves from the tablet as if healthy).
	Health *topo.TabletHealth
	// Serving: the gateway sends it writes (the shard's primary) or reads
	// (a replica that passes the health rules) now.
	Serving bool
	// Problem says why it is not serving, or for a primary what its check
	// found wrong; "" otherwise.
	Problem string
}

// TabletHealth returns every tablet of the topology with its health and
// whether this gateway serves from it, ordered by alias: the read API for
// status pages and metrics (healthy, replication lag).
func (s *Server) TabletHealth() []TabletStatus {
	return s.topo.current.Load().tabletStatuses(s.topo.health.Load(), s.lagLimit(), time.Now())
}

func (s *Server) lagLimit() time.Duration {
	if s.cfg.ReplicaLagLimit > 0 {
		return s.cfg.ReplicaLagLimit
	}
	return DefaultReplicaLagLimit
}

// tabletStatuses applies the serving rules to every tablet of the
// routing's snapshot.
func (r *routing) tabletStatuses(v *healthView, lagLimit time.Duration, now time.Time) []TabletStatus {
	if r.snap == nil {
		return nil
	}
	out := make([]TabletStatus, 0, len(r.snap.Tablets))
	for _, t := range r.snap.Tablets {
		st := TabletStatus{Tablet: t, Health: v.record(t.Alias, now)}
		switch {
		case t.Type == topo.TabletDrained:
			st.Problem = "drained"
		case t.Type == topo.TabletPrimary:
			st.Serving = isNamedPrimary(r.snap, t)
			if !st.Serving {
				st.Problem = "not the shard's primary"
			} else if st.Health != nil && !st.Health.Reachable {
				st.Problem = "unreachable"
			} else if st.Health != nil && st.Health.ReadOnly {
				st.Problem = "read_only"
			}
		default:
			if st.Health != nil {
				st.Problem = st.Health.ReplicaProblem(lagLimit)
			}
			st.Serving = st.Problem == ""
		}
		out = append(out, st)
	}
	return out
}
