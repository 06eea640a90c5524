package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/shardgate/shardgate/console"
	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/topo"
)

// shardgate_failovers_total counts the recorded recoveries by keyspace,
// shard and kind, as the "failover happened" alert reads it.
func TestFailoversMetricCountsRecoveries(t *testing.T) {
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
	now := time.Now()
	for i, reason := range []string{"primary unreachable for 2s", "planned reparent a -> b", "primary unreachable for 2s", "emergency reparent"} {
		if err := failover.Record(ctx, store, &failover.Recovery{Time: now.Add(time.Duration(i) * time.Second), Keyspace: "service", Shard: "-80", Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]float64{}
	families, err := srv.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "shardgate_failovers_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["keyspace"]+"/"+labels["shard"]+" "+labels["kind"]] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"service/-80 failover": 2, "service/-80 planned": 1, "service/-80 emergency": 1}
	if len(got) != len(want) {
		t.Fatalf("got shardgate_failovers_total %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("shardgate_failovers_total{%s} = %v, want %v", k, got[k], v)
		}
	}
}
