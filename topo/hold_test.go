package topo

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestHoldProtocol: a hold is seen by a watcher, AwaitAcks waits for
// every registered gateway, returns once all acknowledged, and fails at
// the deadline naming a gateway that never does; a gateway that
// unregisters is no longer waited for; ReleaseHold removes hold and acks.
func TestHoldProtocol(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()

	unregA, err := s.RegisterGateway(ctx, "gw-a")
	if err != nil {
		t.Fatal(err)
	}
	defer unregA(context.Background())
	unregB, err := s.RegisterGateway(ctx, "gw-b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterGateway(ctx, "gw-a"); !errors.Is(err, ErrNodeExists) {
		t.Fatalf("second RegisterGateway gw-a: got %v, want ErrNodeExists", err)
	}
	if got, err := s.ListGateways(ctx); err != nil || !slices.Equal(got, []string{"gw-a", "gw-b"}) {
		t.Fatalf("ListGateways: got %v, %v, want [gw-a gw-b]", got, err)
	}

	// A watcher sees holds come and go.
	seen := make(chan []*Hold, 10)
	wctx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); _ = s.WatchHolds(wctx, func(h []*Hold, _ int64) { seen <- h }) }()
	defer func() { stopWatch(); <-watchDone }()
	if h := <-seen; len(h) != 0 {
		t.Fatalf("first WatchHolds call: got %d holds, want 0", len(h))
	}

	h := &Hold{ID: "h1", Keyspace: "ks", Shards: []string{"-80"}, Deadline: time.Now().Add(2 * time.Second)}
	if err := s.PlaceHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := s.PlaceHold(ctx, h); !errors.Is(err, ErrNodeExists) {
		t.Fatalf("PlaceHold twice: got %v, want ErrNodeExists", err)
	}
	got := <-seen
	if len(got) != 1 || got[0].ID != "h1" || !got[0].Holds("ks", "-80", time.Now()) || got[0].Holds("ks", "80-", time.Now()) {
		t.Fatalf("watched holds: got %+v, want h1 holding ks/-80 only", got)
	}

	if err := s.AckHold(ctx, "h1", "gw-a"); err != nil {
		t.Fatal(err)
	}
	acked := make(chan error, 1)
	go func() {
		_, err := s.AwaitAcks(ctx, h)
		acked <- err
	}()
	select {
	case err := <-acked:
		t.Fatalf("AwaitAcks returned %v with gw-b not acknowledged", err)
	case <-time.After(300 * time.Millisecond):
	}
	// gw-b goes away: it is no longer waited for.
	if err := unregB(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-acked:
		if err != nil {
			t.Fatalf("AwaitAcks after gw-b left: got %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("AwaitAcks did not return after the last unacknowledged gateway left")
	}
	if err := s.ReleaseHold(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; len(got) != 0 {
		t.Fatalf("holds after release: got %+v, want none", got)
	}
	if err := s.AckHold(ctx, "h1", "gw-a"); !errors.Is(err, ErrNoNode) {
		t.Fatalf("AckHold after release: got %v, want ErrNoNode", err)
	}

	// A live gateway that never acknowledges: AwaitAcks fails at the
	// deadline and names it.
	unregC, err := s.RegisterGateway(ctx, "gw-deaf")
	if err != nil {
		t.Fatal(err)
	}
	defer unregC(context.Background())
	h2 := &Hold{ID: "h2", Keyspace: "ks", Shards: []string{"-80"}, Deadline: time.Now().Add(500 * time.Millisecond)}
	if err := s.PlaceHold(ctx, h2); err != nil {
		t.Fatal(err)
	}
	if err := s.AckHold(ctx, "h2", "gw-a"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.AwaitAcks(ctx, h2)
	if !errors.Is(err, ErrHoldNotAcknowledged) {
		t.Fatalf("AwaitAcks with a deaf gateway: got %v, want ErrHoldNotAcknowledged", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("AwaitAcks with a deaf gateway took %s, want about 500ms", took)
	}
	t.Logf("deaf gateway: %v", err)
	if err := s.ReleaseHold(ctx, "h2"); err != nil {
		t.Fatal(err)
	}
}
