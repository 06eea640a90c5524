package console_test

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/shardgate/shardgate/console"
	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/topo"
)

// The shardgate_workflow_* gauges follow a workflow's record in etcd as a
// controller writes it: state, copy progress and rate, catch-up lag
// (absent until known, then growing once no controller reports), read
// share.
func TestWorkflowMetricsFollowTheRecord(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	e, err := topo.StartEmbedded(ctx, topo.EmbeddedConfig{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	store, err := topo.Open(ctx, topo.Config{Endpoints: e.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := console.New(console.Config{Gateway: srv, Store: store}); err != nil {
		t.Fatal(err)
	}

	if got := workflowSamples(t, srv); len(got) != 0 {
		t.Errorf("no workflow: got samples %v, want none", got)
	}
	if err := store.CreateKeyspace(ctx, topo.Keyspace{Name: "service", Sharded: true}); err != nil {
		t.Fatal(err)
	}
	started := time.Now().Add(-10 * time.Second)
	if err := store.CreateWorkflow(ctx, &topo.Workflow{Keyspace: "service", Name: "split", Kind: topo.WorkflowReshard,
		State: topo.WorkflowCopying, SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"},
		Copy: map[string]*topo.CopyProgress{"-80": {Started: started, RowsCopied: 4000, RowsTotal: 10000}}}); err != nil {
		t.Fatal(err)
	}
	got := workflowSamples(t, srv)
	for name, want := range map[string]float64{
		"shardgate_workflow_state{state=copying}":         1,
		"shardgate_workflow_state{state=running}":         0,
		"shardgate_workflow_state{state=error}":           0,
		"shardgate_workflow_rows_copied":                  4000,
		"shardgate_workflow_rows_total":                   10000,
		"shardgate_workflow_read_percent":                 0,
		"shardgate_workflow_state{state=writes-switched}": 0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("copying: %s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	// 4000 rows in about 10 s.
	if r := got["shardgate_workflow_copy_rows_per_second"]; r < 300 || r > 400 {
		t.Errorf("copying: copy rate %v rows/s, want about 400 (4000 rows in 10 s)", r)
	}
	if v, ok := got["shardgate_workflow_lag_seconds"]; ok {
		t.Errorf("copying: lag %v exported, want absent until catch-up reports", v)
	}

	// Copied, catching up 1.5 s behind, a quarter of the reads switched.
	if err := store.UpdateWorkflow(ctx, "service", "split", func(w *topo.Workflow) error {
		w.State = topo.WorkflowRunning
		w.Copy["-80"] = &topo.CopyProgress{Started: started, RowsCopied: 10000, RowsTotal: 10000, Done: true, Finished: started.Add(5 * time.Second)}
		w.Catchup = map[string]*topo.CatchupProgress{"-80": {Position: "0-1-9", LagSeconds: 1.5, Updated: time.Now()}}
		w.ReadPer10000 = 2500
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got = workflowSamples(t, srv)
	for name, want := range map[string]float64{
		"shardgate_workflow_state{state=copying}":   0,
		"shardgate_workflow_state{state=running}":   1,
		"shardgate_workflow_rows_copied":            10000,
		"shardgate_workflow_copy_rows_per_second":   2000,
		"shardgate_workflow_lag_seconds":            1.5,
		"shardgate_workflow_read_percent":           25,
		"shardgate_workflow_state{state=cancelled}": 0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("running: %s = %v (present %v), want %v", name, v, ok, want)
		}
	}

	if v, ok := got["shardgate_workflow_write_stall_seconds"]; ok {
		t.Errorf("no write switch yet: write stall %v exported, want absent", v)
	}

	// Writes switched twice (there and back): the last hold and the
	// longest.
	if err := store.UpdateWorkflow(ctx, "service", "split", func(w *topo.Workflow) error {
		w.LastWriteStall, w.MaxWriteStall = 120*time.Millisecond, 450*time.Millisecond
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got = workflowSamples(t, srv)
	if got["shardgate_workflow_write_stall_seconds"] != 0.12 || got["shardgate_workflow_max_write_stall_seconds"] != 0.45 {
		t.Errorf("after two write switches: write stall %v, max %v; want 0.12, 0.45", got["shardgate_workflow_write_stall_seconds"], got["shardgate_workflow_max_write_stall_seconds"])
	}

	// The controller stopped reporting a minute ago: the lag grows.
	if err := store.UpdateWorkflow(ctx, "service", "split", func(w *topo.Workflow) error {
		w.Catchup["-80"].Updated = time.Now().Add(-time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if lag := workflowSamples(t, srv)["shardgate_workflow_lag_seconds"]; lag < 61 {
		t.Errorf("no report for a minute: lag %v, want over 61 (1.5 reported + the minute)", lag)
	}

	if err := store.UpdateWorkflow(ctx, "service", "split", func(w *topo.Workflow) error {
		w.State, w.Error = topo.WorkflowError, "DDL on source -80"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got = workflowSamples(t, srv)
	if got["shardgate_workflow_state{state=error}"] != 1 || got["shardgate_workflow_state{state=running}"] != 0 {
		t.Errorf("in error: got states %v, want error 1, running 0", got)
	}
}

// workflowSamples gathers the gateway's registry and returns the
// shardgate_workflow_* samples of service/split, keyed by name (and the
// state label for the state gauge).
func workflowSamples(t *testing.T, srv *gateway.Server) map[string]float64 {
	t.Helper()
	families, err := srv.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := labelMap(m)
			if labels["workflow"] == "" {
				continue
			}
			if labels["keyspace"] != "service" || labels["workflow"] != "split" || labels["kind"] != "reshard" {
				t.Errorf("%s: labels %v, want keyspace service, workflow split, kind reshard", f.GetName(), labels)
			}
			key := f.GetName()
			if s, ok := labels["state"]; ok {
				key += "{state=" + s + "}"
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

func labelMap(m *dto.Metric) map[string]string {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	return labels
}
