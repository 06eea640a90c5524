package topo

import (
	"context"
	"testing"
	"time"
)

// TestTabletHealthWatch: health records written, changed and deleted
// reach a WatchTabletHealth within a second, and wake no snapshot watch
// (they change every second on a lagging replica).
func TestTabletHealthWatch(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	a := TabletAlias{Cell: "zone1", UID: 101}
	b := TabletAlias{Cell: "zone1", UID: 102}
	lag := int64(3)
	if err := s.SaveTabletHealth(ctx, &TabletHealth{Alias: b, Reachable: true, CheckedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	lists := make(chan []*TabletHealth, 100)
	snaps := make(chan *Snapshot, 100)
	done := make(chan struct{}, 2)
	go func() { _ = s.WatchTabletHealth(ctx, func(l []*TabletHealth) { lists <- l }); done <- struct{}{} }()
	go func() { _ = s.WatchSnapshots(ctx, func(sn *Snapshot) { snaps <- sn }); done <- struct{}{} }()
	defer func() { cancel(); <-done; <-done }()

	next := func(want string) []*TabletHealth {
		t.Helper()
		select {
		case l := <-lists:
			return l
		case <-time.After(time.Second):
			t.Fatalf("no health list within 1s after %s", want)
			return nil
		}
	}
	if l := next("the start"); len(l) != 1 || l[0].Alias != b {
		t.Fatalf("first health list: got %v, want one record of %s", l, b)
	}
	<-snaps // the first snapshot

	if err := s.SaveTabletHealth(ctx, &TabletHealth{Alias: a, Reachable: true, Replicating: true, IORunning: true, SQLRunning: true, LagSeconds: &lag}); err != nil {
		t.Fatal(err)
	}
	l := next("a save")
	if len(l) != 2 || l[0].Alias != a || l[1].Alias != b || l[0].LagSeconds == nil || *l[0].LagSeconds != 3 {
		t.Fatalf("after saving %s: got %+v, want %s (lag 3) then %s", a, l, a, b)
	}
	if err := s.DeleteTabletHealth(ctx, b); err != nil {
		t.Fatal(err)
	}
	if l := next("a delete"); len(l) != 1 || l[0].Alias != a {
		t.Fatalf("after deleting %s: got %+v, want %s only", b, l, a)
	}
	if got, err := s.ListTabletHealth(ctx); err != nil || len(got) != 1 || got[0].Alias != a {
		t.Fatalf("ListTabletHealth: got %+v, %v, want %s only", got, err, a)
	}
	select {
	case sn := <-snaps:
		t.Fatalf("a health write delivered a snapshot (revision %d); want none", sn.Revision)
	case <-time.After(2 * watchDebounce):
	}
}

func TestReplicaProblem(t *testing.T) {
	lag := func(n int64) *int64 { return &n }
	running := TabletHealth{Reachable: true, Replicating: true, IORunning: true, SQLRunning: true}
	cases := []struct {
		name string
		h    TabletHealth
		want string
	}{
		{"healthy", with(running, func(h *TabletHealth) { h.LagSeconds = lag(0) }), ""},
		{"at the limit", with(running, func(h *TabletHealth) { h.LagSeconds = lag(30) }), ""},
		{"over the limit", with(running, func(h *TabletHealth) { h.LagSeconds = lag(31) }), "lag 31s over the 30s limit"},
		{"sql stopped", with(running, func(h *TabletHealth) { h.SQLRunning = false }), "replication SQL thread stopped"},
		{"io stopped", with(running, func(h *TabletHealth) { h.IORunning = false }), "replication IO thread stopped"},
		{"lag null", running, "lag unknown"},
		{"unreachable", TabletHealth{}, "unreachable"},
		{"primary", TabletHealth{Reachable: true}, "not replicating"},
	}
	for _, c := range cases {
		if got := c.h.ReplicaProblem(30 * time.Second); got != c.want {
			t.Errorf("%s: ReplicaProblem(%+v): got %q, want %q", c.name, c.h, got, c.want)
		}
	}
}

func with(h TabletHealth, fn func(*TabletHealth)) TabletHealth {
	fn(&h)
	return h
}
