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

// TabletView is a tablet as the status port shows it: its topology
// record, its health and lag, whether the gateway serves from it, and the
// gateway's pool to it.
type TabletView struct {
	Alias    string `json:"alias"`
	Cell     string `json:"cell"`
	Keyspace string `json:"keyspace"`
	Shard    string `json:"shard"`
	Type     string `json:"type"`
	Address  string `json:"address"`
	// Healthy: the controller's last health record says the tablet is
	// reachable and (for a replica) replicating; without a fresh
	// record, the gateway's own view: its latest attempt to connect to
	// the tablet succeeded.
	Healthy bool `json:"healthy"`
	// Serving: the gateway sends it writes (the shard's primary) or reads
	// (a replica that passes the health rules) now; Problem says why not.
	Serving bool   `json:"serving"`
	Problem string `json:"problem,omitempty"`
	// LagSeconds is the replication lag of the last health record (nil:
	// not known).
	LagSeconds *float64 `json:"lag_seconds"`
	// Pool is the gateway's connection pool to the tablet.
	PoolInUse int   `json:"pool_in_use"`
	PoolOpen  int   `json:"pool_open"`
	PoolWaits int64 `json:"pool_waits"`
}

// Tablets lists the topology's tablets by alias with the gateway's view
// of them (TabletHealth, plus its pools).
func (s *Server) Tablets() []TabletView {
	pools := s.topo.poolsByAlias()
	statuses := s.TabletHealth()
	out := make([]TabletView, 0, len(statuses))
	for _, st := range statuses {
		tb := st.Tablet
		alias := tb.Alias.String()
		v := TabletView{
			Alias: alias, Cell: tb.Alias.Cell, Keyspace: tb.Keyspace, Shard: tb.Shard,
			Type: string(tb.Type), Address: net.JoinHostPort(tb.Host, strconv.Itoa(tb.Port)),
			Serving: st.Serving, Problem: st.Problem, Healthy: true,
		}
		if p := pools[alias]; p != nil {
			ps := p.Stats()
			v.Healthy = !ps.LastDialFailed
			v.PoolInUse, v.PoolOpen, v.PoolWaits = ps.InUse, ps.Open, ps.WaitCount
		}
		if h := st.Health; h != nil {
			// Lag is its own metric: a lagging replica is healthy, if
			// not serving.
			v.Healthy = h.Reachable && (tb.Type != topo.TabletReplica || h.IORunning && h.SQLRunning)
			if h.LagSeconds != nil {
				lag := float64(*h.LagSeconds)
				v.LagSeconds = &lag
			}
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b TabletView) int { return strings.Compare(a.Alias, b.Alias) })
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
