package console

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/topo"
)

// workflowsCollector exports the resharding and table-move workflows
// recorded in etcd, read at scrape time through the same summary
// `shardctl reshard status` prints (reshard.StatusOf), so the metrics
// and the CLI never disagree.
//
// Every shardgate process exports them, not only the one whose
// controller leads: the record is the truth whichever process reads it,
// a controller that dies must not take the lag gauge with it (StatusOf
// counts the time since the last report as lag, so the gauge keeps
// growing while no controller runs), and a new leader needs no warm-up.
// Dashboards and alerts take max by (keyspace, workflow).
type workflowsCollector struct{ store *topo.Store }

var workflowLabels = []string{"keyspace", "workflow", "kind"}

var (
	workflowStateDesc = prometheus.NewDesc("shardgate_workflow_state",
		"1 for the state a resharding or table-move workflow is in, 0 for the others (copying, running, reads-switched, writes-switched, completed, cancelled, error).",
		append(workflowLabels[:len(workflowLabels):len(workflowLabels)], "state"), nil)
	workflowRowsCopiedDesc = prometheus.NewDesc("shardgate_workflow_rows_copied",
		"Rows the workflow's copy committed on the targets.", workflowLabels, nil)
	workflowRowsTotalDesc = prometheus.NewDesc("shardgate_workflow_rows_total",
		"Rows to copy, counted in the copy's snapshots of the sources (an estimate until every source shard's copy started).", workflowLabels, nil)
	workflowCopyRateDesc = prometheus.NewDesc("shardgate_workflow_copy_rows_per_second",
		"Rows copied over the time since the copy started (until it finished, once it has).", workflowLabels, nil)
	workflowLagDesc = prometheus.NewDesc("shardgate_workflow_lag_seconds",
		"How far the replicating side trails the side taking writes: catch-up until writes are switched, reverse replication while they are (largest over the streams; grows while no controller reports). Absent until every stream reported, and once nothing replicates.", workflowLabels, nil)
	workflowWriteStallDesc = prometheus.NewDesc("shardgate_workflow_write_stall_seconds",
		"How long the last successful write switch (switch-traffic --writes, reverse-traffic) held the keyspace's writes, hold placed to released. Absent before the first.", workflowLabels, nil)
	workflowMaxWriteStallDesc = prometheus.NewDesc("shardgate_workflow_max_write_stall_seconds",
		"The longest hold of the keyspace's writes of any write switch of the workflow. Absent before the first.", workflowLabels, nil)
	workflowReadPercentDesc = prometheus.NewDesc("shardgate_workflow_read_percent",
		"Share of sessions whose reads outside transactions go to the targets (switch-traffic --reads), 0 to 100.", workflowLabels, nil)
)

func (c *workflowsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{workflowStateDesc, workflowRowsCopiedDesc, workflowRowsTotalDesc,
		workflowCopyRateDesc, workflowLagDesc, workflowReadPercentDesc, workflowWriteStallDesc, workflowMaxWriteStallDesc} {
		ch <- d
	}
}

func (c *workflowsCollector) Collect(ch chan<- prometheus.Metric) {
	if c.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	wfs, err := c.store.ListWorkflows(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(workflowStateDesc, err)
		return
	}
	now := time.Now()
	for _, w := range wfs {
		st := reshard.StatusOf(w, now)
		labels := []string{w.Keyspace, w.Name, string(w.Kind)}
		for _, s := range topo.WorkflowStates() {
			v := 0.0
			if s == st.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(workflowStateDesc, prometheus.GaugeValue, v, append(labels, string(s))...)
		}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
		}
		gauge(workflowRowsCopiedDesc, float64(st.RowsCopied))
		gauge(workflowRowsTotalDesc, float64(st.RowsTotal))
		gauge(workflowCopyRateDesc, st.CopyRowsPerSecond)
		gauge(workflowReadPercentDesc, st.ReadPercent)
		if st.LagSeconds != nil {
			gauge(workflowLagDesc, *st.LagSeconds)
		}
		if st.MaxWriteStallMs > 0 {
			gauge(workflowWriteStallDesc, st.WriteStallMs/1000)
			gauge(workflowMaxWriteStallDesc, st.MaxWriteStallMs/1000)
		}
	}
}
