package schema_test

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardgate/shardgate/schema"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// onEveryShard runs a statement directly on every shard's primary.
func onEveryShard(t *testing.T, query string) {
	t.Helper()
	c := cluster.Get(t)
	for _, shard := range []string{"-80", "80-"} {
		cc := c.Primary("shop", shard).Mysqld.ConnConfig()
		cc.DB = "shop"
		conn, err := tablet.Dial(context.Background(), cc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Execute(context.Background(), query); err != nil {
			conn.Close()
			t.Fatalf("%s on %s: %v", query, shard, err)
		}
		conn.Close()
	}
}

func columnNames(cols []vschema.Column) []string {
	var out []string
	for _, c := range cols {
		out = append(out, c.Name)
	}
	return out
}

// TestTracker: the elected tracker reads the columns (in table order,
// invisible ones left out) into etcd, a snapshot's compiled vschema
// carries them, and DDL sent straight to the shards is picked up within
// the interval.
func TestTracker(t *testing.T) {
	c := cluster.Get(t)
	ctx := context.Background()
	onEveryShard(t, "drop table if exists items")
	onEveryShard(t, "create table items (id bigint primary key, secret int invisible, name varchar(20), price decimal(10,2))")

	var snap atomic.Pointer[topo.Snapshot]
	refreshSnap := func() {
		s, err := c.Store.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snap.Store(s)
	}
	refreshSnap()
	tr := schema.NewTracker(schema.Config{
		Store:    c.Store,
		Snapshot: snap.Load,
		Conn:     tablet.ConnConfig{User: "root"},
		Interval: 100 * time.Millisecond,
		ID:       "test",
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(runCtx) }()
	defer func() { stop(); <-done }()

	waitColumns := func(want []string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			ts, _, err := c.Store.GetTrackedSchema(ctx, "shop")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if ts != nil {
				got = columnNames(ts.Tables["items"])
			}
			if reflect.DeepEqual(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("tracked columns of shop.items: got %v, want %v", got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitColumns([]string{"id", "name", "price"})

	refreshSnap()
	items := snap.Load().VSchema.Keyspaces["shop"].Tables["items"]
	if cols, ok := items.KnownColumns(); !ok || !reflect.DeepEqual(columnNames(cols), []string{"id", "name", "price"}) {
		t.Errorf("snapshot's vschema columns of items: got %v (known %v), want [id name price]", columnNames(cols), ok)
	}

	onEveryShard(t, "alter table items add column note text after id")
	waitColumns([]string{"id", "note", "name", "price"})
}

// TestSaveTrackedSchemaRefusesStaleWrite: a refresh that read the record
// before another writer saved one does not overwrite it.
func TestSaveTrackedSchemaRefusesStaleWrite(t *testing.T) {
	c := cluster.Get(t)
	ctx := context.Background()
	_, rev, err := c.Store.GetTrackedSchema(ctx, "stale")
	if err != nil {
		t.Fatal(err)
	}
	newer := &topo.TrackedSchema{Tables: map[string][]vschema.Column{"a": {{Name: "x"}}}}
	if _, _, err := c.Store.SaveTrackedSchema(ctx, "stale", newer, rev); err != nil {
		t.Fatal(err)
	}
	older := &topo.TrackedSchema{Tables: map[string][]vschema.Column{"a": {{Name: "y"}}}}
	if _, _, err := c.Store.SaveTrackedSchema(ctx, "stale", older, rev); !errors.Is(err, topo.ErrBadVersion) {
		t.Errorf("stale save: got %v, want ErrBadVersion", err)
	}
	got, _, err := c.Store.GetTrackedSchema(ctx, "stale")
	if err != nil || got == nil || got.Tables["a"][0].Name != "x" {
		t.Errorf("after the stale save: got %+v, %v; want the newer record kept", got, err)
	}
}
