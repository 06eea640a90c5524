package tablet_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestContextWatchedOncePerContext: a connection registers with a
// statement context once for all its commands (no allocation per
// command), yet the context's end still interrupts the command running
// under it, and only that one: a context that ends while the connection
// is idle or runs another context's command leaves it usable.
func TestContextWatchedOncePerContext(t *testing.T) {
	m := tablettest.StartMysqld(t)
	c := mustDial(t, tablet.Dial, m.ConnConfig())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := c.Stream(ctx, "SELECT 1", nil, nil); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(50, func() {
		if _, err := c.Stream(ctx, "SELECT 1", nil, nil); err != nil {
			t.Fatal(err)
		}
	}); allocs > 0 && !raceEnabled {
		t.Errorf("a command under an already watched context allocates %.1f times, want 0", allocs)
	}

	// Another context's end, while this connection runs a command of a
	// second one, interrupts nothing.
	other, cancelOther := context.WithCancel(context.Background())
	if _, err := c.Execute(other, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(100 * time.Millisecond); cancelOther() }()
	if r, err := c.Execute(ctx, "SELECT SLEEP(0.4)"); err != nil || c.IsBroken() {
		t.Fatalf("command under ctx while another context ended: %v %v (broken %v), want it to finish", r, err, c.IsBroken())
	}

	// A context that ends between commands leaves the connection usable.
	idle, cancelIdle := context.WithCancel(context.Background())
	if _, err := c.Execute(idle, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	cancelIdle()
	time.Sleep(50 * time.Millisecond)
	if _, err := c.Execute(ctx, "SELECT 1"); err != nil || c.IsBroken() {
		t.Fatalf("after a context ended between commands: %v (broken %v), want usable", err, c.IsBroken())
	}

	// The watched context's end interrupts its running command.
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	start := time.Now()
	if _, err := c.Execute(ctx, "SELECT SLEEP(10)"); !errors.Is(err, context.Canceled) {
		t.Fatalf("SELECT SLEEP(10) cancelled after 200ms: got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the cancelled command returned after %v", d)
	}
	if !c.IsBroken() {
		t.Error("an interrupted connection is still usable")
	}
}
