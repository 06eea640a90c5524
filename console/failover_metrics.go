package console

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/topo"
)

// recoveriesCollector exports the failover history recorded in etcd as
// shardgate_failovers_total{keyspace,shard,kind}: automatic failovers,
// planned and emergency reparents, read at scrape time (one range read;
// the history is small). A counter: records are only ever added.
type recoveriesCollector struct{ store *topo.Store }

var failoversDesc = prometheus.NewDesc("shardgate_failovers_total",
	"Primaries replaced, by keyspace, shard and kind (failover, planned, emergency), from the recovery history in etcd.",
	[]string{"keyspace", "shard", "kind"}, nil)

func (c *recoveriesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- failoversDesc }

func (c *recoveriesCollector) Collect(ch chan<- prometheus.Metric) {
	if c.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	recs, err := failover.ListRecoveries(ctx, c.store)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(failoversDesc, err)
		return
	}
	type key struct{ keyspace, shard, kind string }
	counts := map[key]int{}
	for _, r := range recs {
		counts[key{r.Keyspace, r.Shard, recoveryKind(r.Reason)}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(failoversDesc, prometheus.CounterValue, float64(n), k.keyspace, k.shard, k.kind)
	}
}

// recoveryKind sorts a recovery by its recorded reason.
func recoveryKind(reason string) string {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "planned"):
		return "planned"
	case strings.Contains(r, "emergency"):
		return "emergency"
	}
	return "failover"
}
