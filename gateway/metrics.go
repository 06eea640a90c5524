package gateway

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/querystats"
	"github.com/shardgate/shardgate/sqlerror"
)

// metrics are one gateway's Prometheus metrics, in a registry of its own
// (no global DefaultRegisterer: two gateways in one process never share
// state). Their names and labels are an interface operators build
// dashboards and alerts on (deploy/): keep them.
//
// The statement path never resolves label values: a cached plan keeps
// its counters (planStats), a routing snapshot its tablets' counters
// (routedTablet), so recording costs atomic adds only.
type metrics struct {
	reg *prometheus.Registry

	queries            *prometheus.CounterVec   // keyspace, statement, plan
	queryDuration      *prometheus.HistogramVec // keyspace, statement
	errors             *prometheus.CounterVec   // code
	shardQueries       *prometheus.CounterVec   // keyspace, shard, tablet_alias, tablet_type
	shardQueryDuration *prometheus.HistogramVec // keyspace, shard
	transactions       *prometheus.CounterVec   // mode, outcome
	twopcCommits       *prometheus.CounterVec   // outcome

	// errorCodes caches the errors counter of each code seen.
	errorCodes sync.Map // uint16 -> prometheus.Counter
	// collectors are those registered, for MetricNames.
	collectors []prometheus.Collector
}

// latencyBuckets are the histograms' bounds in seconds: a point select
// through the gateway takes a few hundred microseconds, a scatter or a
// 2PC commit milliseconds.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shardgate_queries_total",
			Help: "Statements run, by keyspace, statement kind (select, insert, update, delete, ddl, other) and plan root opcode.",
		}, []string{"keyspace", "statement", "plan"}),
		queryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shardgate_query_duration_seconds",
			Help:    "Statement latency in the gateway, from the statement's start to its last packet.",
			Buckets: latencyBuckets,
		}, []string{"keyspace", "statement"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shardgate_errors_total",
			Help: "Errors answered to clients, by MySQL error number.",
		}, []string{"code"}),
		shardQueries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shardgate_shard_queries_total",
			Help: "Queries sent to tablets, by keyspace, shard, tablet alias and tablet type.",
		}, []string{"keyspace", "shard", "tablet_alias", "tablet_type"}),
		shardQueryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shardgate_shard_query_duration_seconds",
			Help:    "Latency of queries sent to tablets, by keyspace and shard.",
			Buckets: latencyBuckets,
		}, []string{"keyspace", "shard"}),
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shardgate_transactions_total",
			Help: "Transactions that touched a shard, by transaction_mode and outcome (commit, rollback, error).",
		}, []string{"mode", "outcome"}),
		twopcCommits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shardgate_twopc_commits_total",
			Help: "Two-phase commits (transactions that wrote to several shards in twopc mode), by outcome (commit, error).",
		}, []string{"outcome"}),
	}
	m.register(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.queries, m.queryDuration, m.errors, m.shardQueries, m.shardQueryDuration,
		m.transactions, m.twopcCommits,
	)
	return m
}

func (m *metrics) register(cs ...prometheus.Collector) {
	m.reg.MustRegister(cs...)
	m.collectors = append(m.collectors, cs...)
}

// fqNameRE reads a metric name out of a Desc's String (Desc has no
// accessor for it).
var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

// MetricNames lists the names of every metric the gateway exports (by
// the collectors' Describe, so metrics with no sample yet are included),
// sorted; histograms appear as their _bucket, _sum and _count series.
// Empty when metrics are disabled. Dashboards and alerts are checked
// against it (deploy/).
func (s *Server) MetricNames() []string {
	if s.metrics == nil {
		return nil
	}
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range s.metrics.collectors {
			c.Describe(ch)
		}
		close(ch)
	}()
	seen := map[string]bool{}
	for d := range ch {
		if m := fqNameRE.FindStringSubmatch(d.String()); m != nil {
			seen[m[1]] = true
		}
	}
	var out []string
	for name := range seen {
		if strings.HasSuffix(name, "_duration_seconds") { // histograms and summaries
			out = append(out, name+"_bucket", name+"_sum", name+"_count")
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// RegisterMetrics adds collectors of state the gateway does not own (the
// failover history, read by the console package) to its registry, so
// /metrics and MetricNames include them. A no-op with metrics off.
func (s *Server) RegisterMetrics(cs ...prometheus.Collector) error {
	if s.metrics == nil {
		return nil
	}
	for _, c := range cs {
		if err := s.metrics.reg.Register(c); err != nil {
			return fmt.Errorf("gateway: register metrics: %w", err)
		}
		s.metrics.collectors = append(s.metrics.collectors, c)
	}
	return nil
}

// registerServer adds the metrics read from the server's state at scrape
// time: plan cache, client connections, pools, tablets, 2PC.
func (m *metrics) registerServer(s *Server) {
	m.register(
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
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shardgate_connections",
			Help: "Client connections open.",
		}, func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			return float64(len(s.sessions))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shardgate_query_digests",
			Help: "Query digests held (SHOW QUERY STATS).",
		}, func() float64 { return float64(s.digests.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shardgate_buffer_held",
			Help: "Statements waiting now in the buffer for a shard's serving primary (failover, reparent).",
		}, func() float64 { return float64(s.BufferStats().Held) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shardgate_buffer_released_total",
			Help: "Buffered statements that then ran on a primary.",
		}, func() float64 { return float64(s.BufferStats().Released) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shardgate_buffer_timeouts_total",
			Help: "Buffered statements that waited a whole buffer window and got a retryable error.",
		}, func() float64 { return float64(s.BufferStats().Timeouts) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shardgate_buffer_overflows_total",
			Help: "Statements refused because the buffer was full.",
		}, func() float64 { return float64(s.BufferStats().Overflows) }),
		&tabletCollector{s: s},
		&twopcCollector{s: s},
	)
}

// planStats are the counters of one plan, resolved once (planEntry keeps
// them for a cached plan).
type planStats struct {
	keyspace  string
	statement string
	plan      string
	queries   prometheus.Counter
	duration  prometheus.Observer
}

// statsFor resolves the counters of a plan run for a session whose target
// keyspace is keyspace (plan may be nil: a statement that failed before
// it was planned, or a session command).
func (m *metrics) statsFor(plan *planner.Plan, keyspace string) *planStats {
	kind, op := "other", "None"
	if plan != nil {
		kind = statementKind(plan.Type)
		var ks string
		if op, ks = engine.RootOpcode(plan.Root); ks != "" {
			keyspace = ks
		}
		if op == "" {
			op = "None"
		}
	}
	return &planStats{
		keyspace: keyspace, statement: kind, plan: op,
		queries:  m.queries.WithLabelValues(keyspace, kind, op),
		duration: m.queryDuration.WithLabelValues(keyspace, kind),
	}
}

// statementKind is the statement label of a plan type.
func statementKind(t planner.StmtType) string {
	switch t {
	case planner.StmtSelect:
		return "select"
	case planner.StmtInsert, planner.StmtReplace:
		return "insert"
	case planner.StmtUpdate:
		return "update"
	case planner.StmtDelete:
		return "delete"
	case planner.StmtDDL:
		return "ddl"
	}
	return "other"
}

// countError counts an error answered to a client, by its number.
func (m *metrics) countError(err error) uint16 {
	code := sqlerror.ToMyError(err).Code
	c, ok := m.errorCodes.Load(code)
	if !ok {
		c, _ = m.errorCodes.LoadOrStore(code, m.errors.WithLabelValues(strconv.Itoa(int(code))))
	}
	c.(prometheus.Counter).Inc()
	return code
}

// digestOf returns the digest a plan cache entry's runs are recorded in,
// looked up once per entry (and again if the table evicted it).
func (s *Server) digestOf(e *planEntry, keyspace string, prefix int) *querystats.Digest {
	if d := e.digest.Load(); d != nil && !d.Evicted() {
		return d
	}
	d := s.digests.Lookup(keyspace, querystats.Normalize(e.key[prefix:]))
	e.digest.Store(d)
	return d
}

// twopcCollector exports the unresolved distributed transactions: the
// decision records in etcd, read at scrape time (one range read).
type twopcCollector struct{ s *Server }

var twopcUnresolvedDesc = prometheus.NewDesc("shardgate_twopc_unresolved",
	"Distributed transactions decided but not yet finished on every shard (decision records in etcd).", nil, nil)

func (c *twopcCollector) Describe(ch chan<- *prometheus.Desc) { ch <- twopcUnresolvedDesc }

func (c *twopcCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.coord == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	recs, err := c.s.coord.Records(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(twopcUnresolvedDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(twopcUnresolvedDesc, prometheus.GaugeValue, float64(len(recs)))
}
