package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
)

// TestBufferFlags: `up` and `serve` both take --buffer-window and
// --buffer-max-statements into the gateway's config.
func TestBufferFlags(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		wantWindow time.Duration
		wantMax    int
	}{
		{args: nil, wantWindow: gateway.DefaultBufferWindow, wantMax: gateway.DefaultBufferMaxStatements},
		{args: []string{"--buffer-window", "3s", "--buffer-max-statements=50"}, wantWindow: 3 * time.Second, wantMax: 50},
	} {
		var g gatewayFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		g.register(fs, "warn")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		cfg, err := g.config(nil, nil)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if cfg.BufferWindow != tc.wantWindow || cfg.BufferMaxStatements != tc.wantMax {
			t.Errorf("%v: got window %v, max %d, want %v, %d", tc.args, cfg.BufferWindow, cfg.BufferMaxStatements, tc.wantWindow, tc.wantMax)
		}
	}
}
