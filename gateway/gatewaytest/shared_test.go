package gatewaytest

import (
	"os"
	"testing"
)

func TestSharedStartsOnFirstUseOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("Env skips under -short")
	}
	var dirs []string
	s := NewShared("gatewaytest-shared-", func(dir string) (*Env, error) {
		dirs = append(dirs, dir)
		return nil, nil // nothing to stop: this test needs no cluster
	})
	if started, _ := s.Started(); started {
		t.Fatal("Started before any test asked: got true, want false")
	}
	t.Run("first", func(t *testing.T) { s.Env(t) })
	t.Run("second", func(t *testing.T) { s.Env(t) })
	if len(dirs) != 1 {
		t.Fatalf("starts after two tests asked: got %d, want 1", len(dirs))
	}
	if started, by := s.Started(); !started || by != t.Name()+"/first" {
		t.Errorf("Started: got %v, %q, want true, %q", started, by, t.Name()+"/first")
	}
	s.Stop()
	if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) {
		t.Errorf("the directory after Stop: got %v, want it removed", err)
	}
}

func TestSharedStopWithoutStart(t *testing.T) {
	s := NewShared("gatewaytest-shared-", func(string) (*Env, error) {
		t.Fatal("started without a test asking")
		return nil, nil
	})
	s.Stop()
	if started, _ := s.Started(); started {
		t.Error("Started after Stop alone: got true, want false")
	}
}
