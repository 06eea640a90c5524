package main

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/topo"
)

// TestReshardRunnerStartsAndStops: the controller the gateway starts
// campaigns under the topology's root and is gone after stop.
func TestReshardRunnerStartsAndStops(t *testing.T) {
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

	var f reshardFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse([]string{"--reshard-lease-ttl", "2"}); err != nil {
		t.Fatal(err)
	}
	g := &gatewayFlags{dbUser: "root"}
	stop := f.start(ctx, store, g, "gateway-1", nil)
	leader := store.ReshardElectionPrefix()
	for {
		resp, err := store.Client().Get(ctx, leader, clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) == 1 && strings.HasSuffix(string(resp.Kvs[0].Value), "-gateway-1") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the resharding controller never campaigned")
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	resp, err := store.Client().Get(ctx, leader, clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != 0 {
		t.Errorf("after stop: got %d leader keys (%v), want the controller to have resigned", len(resp.Kvs), err)
	}

	f.enabled = false
	f.start(ctx, store, g, "gateway-1", nil)() // starts nothing
}
