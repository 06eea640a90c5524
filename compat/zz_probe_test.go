package compat_test

import (
	"os"
	"testing"
	"time"
)

func TestZZProbe(t *testing.T) {
	if os.Getenv("PROBE") == "" {
		t.Skip()
	}
	os.WriteFile("/tmp/i7addr", []byte(shared.gw.Addr()), 0o644)
	time.Sleep(60 * time.Second)
}
