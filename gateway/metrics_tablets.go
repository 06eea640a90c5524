package gateway

import "github.com/prometheus/client_golang/prometheus"

// tabletCollector exports, at scrape time, each tablet's pool and health
// as the gateway sees them (Tablets): no goroutine, no query to the
// tablets.
type tabletCollector struct{ s *Server }

var (
	poolInUseDesc = prometheus.NewDesc("shardgate_pool_in_use",
		"Connections of the gateway's pool to the tablet handed out now.", []string{"tablet_alias"}, nil)
	poolWaitsDesc = prometheus.NewDesc("shardgate_pool_waits_total",
		"Requests for a connection to the tablet that had to wait for one (pool full).", []string{"tablet_alias"}, nil)
	tabletHealthyDesc = prometheus.NewDesc("shardgate_tablet_healthy",
		"1 if the gateway can reach the tablet (its latest connection attempt succeeded), else 0.", []string{"tablet_alias", "tablet_type"}, nil)
	replicationLagDesc = prometheus.NewDesc("shardgate_replication_lag_seconds",
		"Replication lag of the tablet; absent while it is not measured.", []string{"tablet_alias"}, nil)
)

func (c *tabletCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolInUseDesc
	ch <- poolWaitsDesc
	ch <- tabletHealthyDesc
	ch <- replicationLagDesc
}

func (c *tabletCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.s.Tablets() {
		healthy := 0.0
		if t.Healthy {
			healthy = 1
		}
		ch <- prometheus.MustNewConstMetric(poolInUseDesc, prometheus.GaugeValue, float64(t.PoolInUse), t.Alias)
		ch <- prometheus.MustNewConstMetric(poolWaitsDesc, prometheus.CounterValue, float64(t.PoolWaits), t.Alias)
		ch <- prometheus.MustNewConstMetric(tabletHealthyDesc, prometheus.GaugeValue, healthy, t.Alias, t.Type)
		if t.LagSeconds != nil {
			ch <- prometheus.MustNewConstMetric(replicationLagDesc, prometheus.GaugeValue, *t.LagSeconds, t.Alias)
		}
	}
}
