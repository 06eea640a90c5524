package gateway

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shardgate/shardgate/querystats"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/twopc"
)

// StatusHandler serves the gateway's Prometheus metrics at /metrics. The
// status port's other pages (console, JSON API, pprof) are the
// console package's, wired by cmd/shardgate. Each gateway has its own
// registry, so two gateways in one process never share metric state.
func (s *Server) StatusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.Gatherer(), promhttp.HandlerOpts{}))
	return mux
}

// Gatherer is the gateway's metrics registry; with metrics disabled, only
// the Go runtime and process metrics (they cost the statements nothing).
func (s *Server) Gatherer() prometheus.Gatherer {
	if s.metrics == nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		return reg
	}
	return s.metrics.reg
}

// QueryStats returns up to n query digests (all if n <= 0), the most
// time-consuming first.
func (s *Server) QueryStats(n int) []querystats.Stats { return s.digests.Top(n) }

// Snapshot is the topology the gateway routes with now (nil before the
// first one arrived).
func (s *Server) Snapshot() *topo.Snapshot { return s.topo.current.Load().snap }

// TabletStatus is a tablet as the gateway sees it.
type TabletStatus struct {
	Alias    string `json:"alias"`
	Cell     string `json:"cell"`
	Keyspace string `json:"keyspace"`
	Shard    string `json:"shard"`
	Type     string `json:"type"`
	Address  string `json:"address"`
	// Healthy is the gateway's own view: false when its latest attempt to
	// connect to the tablet failed.
	Healthy bool `json:"healthy"`
	// Serving: the routing sends the tablet queries (a primary the shard
	// record does not name is not served).
	Serving bool `json:"serving"`
	// LagSeconds is the replication lag, when known (nil: not measured).
	LagSeconds *float64 `json:"lag_seconds"`
	// Pool is the gateway's connection pool to the tablet.
	PoolInUse int   `json:"pool_in_use"`
	PoolOpen  int   `json:"pool_open"`
	PoolWaits int64 `json:"pool_waits"`
}

// Tablets lists the topology's tablets by alias with the gateway's view
// of them.
func (s *Server) Tablets() []TabletStatus {
	r := s.topo.current.Load()
	if r.snap == nil {
		return nil
	}
	pools := s.topo.poolsByAlias()
	out := make([]TabletStatus, 0, len(r.snap.Tablets))
	for _, tb := range r.snap.Tablets {
		alias := tb.Alias.String()
		ts := TabletStatus{
			Alias: alias, Cell: tb.Alias.Cell, Keyspace: tb.Keyspace, Shard: tb.Shard,
			Type: string(tb.Type), Address: net.JoinHostPort(tb.Host, strconv.Itoa(tb.Port)),
		}
		if p := pools[alias]; p != nil {
			st := p.Stats()
			ts.Healthy = !st.LastDialFailed
			ts.PoolInUse, ts.PoolOpen, ts.PoolWaits = st.InUse, st.Open, st.WaitCount
		}
		for _, rt := range r.tablets[tb.Type][shardKey{tb.Keyspace, tb.Shard}] {
			if pools[alias] != nil && rt.pool == pools[alias] {
				ts.Serving = true
			}
		}
		out = append(out, ts)
	}
	slices.SortFunc(out, func(a, b TabletStatus) int { return strings.Compare(a.Alias, b.Alias) })
	return out
}

// UnresolvedTransactions lists the distributed transactions decided and
// not yet finished on every shard (nil when the gateway has no
// coordinator).
func (s *Server) UnresolvedTransactions(ctx context.Context) ([]*twopc.Record, error) {
	if s.coord == nil {
		return nil, nil
	}
	return s.coord.Records(ctx)
}
