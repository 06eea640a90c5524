package lazyenv

import (
	"errors"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	os.Exit(Main(m, New("nothing", func() (int, func(), error) { return 0, nil, nil })))
}

func TestStartsOnFirstUseOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("Get skips under -short")
	}
	starts, stops := 0, 0
	e := New("a counter", func() (int, func(), error) {
		starts++
		return 42, func() { stops++ }, nil
	})
	if by := e.StartedBy(); by != "" {
		t.Fatalf("StartedBy before any test asked: got %q, want \"\"", by)
	}
	var got []int
	t.Run("first", func(t *testing.T) { got = append(got, e.Get(t)) })
	t.Run("second", func(t *testing.T) { got = append(got, e.Get(t)) })
	if starts != 1 || len(got) != 2 || got[0] != 42 || got[1] != 42 {
		t.Fatalf("two tests asking: got %d starts and values %v, want 1 start and [42 42]", starts, got)
	}
	if by, want := e.StartedBy(), t.Name()+"/first"; by != want {
		t.Errorf("StartedBy: got %q, want %q", by, want)
	}
	e.Stop()
	e.Stop()
	if stops != 1 {
		t.Errorf("stops after Stop twice: got %d, want 1", stops)
	}
}

func TestStopWithoutStart(t *testing.T) {
	e := New("a trap", func() (int, func(), error) {
		return 0, nil, errors.New("started without a test asking")
	})
	e.Stop()
	if by := e.StartedBy(); by != "" {
		t.Errorf("StartedBy after Stop alone: got %q, want \"\"", by)
	}
}
