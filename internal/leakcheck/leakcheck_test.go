package leakcheck

import (
	"strings"
	"testing"
	"time"
)

func TestLeakedListsGoroutinesStartedSince(t *testing.T) {
	before := Take()
	stop := make(chan struct{})
	go parkUntil(stop)
	err := before.Leaked(Wait(50 * time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "leakcheck.parkUntil") {
		t.Errorf("a parked goroutine: got %v, want an error naming leakcheck.parkUntil", err)
	}
	if err := before.Leaked(Wait(50*time.Millisecond), Ignore("leakcheck.parkUntil")); err != nil {
		t.Errorf("the same goroutine ignored: got %v, want nil", err)
	}
	close(stop)
	if err := before.Leaked(); err != nil {
		t.Errorf("after it ended: got %v, want nil", err)
	}
}

func TestLeakedWaitsForGoroutinesEnding(t *testing.T) {
	before := Take()
	go time.Sleep(100 * time.Millisecond)
	if err := before.Leaked(Wait(5 * time.Second)); err != nil {
		t.Errorf("a goroutine ending within the wait: got %v, want nil", err)
	}
}

func TestGoroutinesSeesEveryOne(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	for range 3 {
		go parkUntil(stop)
	}
	// The three may take a moment to reach parkUntil.
	n := 0
	for deadline := time.Now().Add(5 * time.Second); n != 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		n = 0
		for _, g := range goroutines() {
			if g.id == 0 {
				t.Fatalf("goroutine without an id:\n%s", g.stack)
			}
			if strings.Contains(g.stack, "leakcheck.parkUntil(") {
				n++
			}
		}
	}
	if n != 3 {
		t.Errorf("parked goroutines found: got %d, want 3", n)
	}
}

func parkUntil(stop <-chan struct{}) { <-stop }
