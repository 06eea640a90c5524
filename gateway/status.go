package gateway

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// StatusHandler serves the gateway's status pages: Prometheus metrics at
// /metrics (Go runtime and process metrics, plan cache counters) and the
// runtime profiles at /debug/pprof/. Each call builds its own registry, so
// two gateways in one process never share metric state.
func (s *Server) StatusHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shardgate_plan_cache_hits_total",
			Help: "Statements whose plan came from the plan cache.",
		}, func() float64 { return float64(s.plans.stats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shardgate_plan_cache_misses_total",
			Help: "Cacheable statements that had to be planned.",
		}, func() float64 { return float64(s.plans.stats().Misses) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shardgate_plan_cache_evictions_total",
			Help: "Plans dropped to keep the cache within its bounds.",
		}, func() float64 { return float64(s.plans.stats().Evictions) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shardgate_plan_cache_entries",
			Help: "Plans in the plan cache.",
		}, func() float64 { return float64(s.plans.stats().Entries) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shardgate_plan_cache_bytes",
			Help: "Estimated memory held by the plan cache's keys and plans.",
		}, func() float64 { return float64(s.plans.stats().Bytes) }),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
