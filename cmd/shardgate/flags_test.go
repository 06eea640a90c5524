package main

import (
	"flag"
	"io"
	"testing"
	"time"
)

// TestQueryTimeoutFlag: `up` and `serve` both register the gateway flags,
// so both accept --query-timeout, which becomes the gateway's QueryTimeout.
func TestQueryTimeoutFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{args: nil, want: 0},
		{args: []string{"--query-timeout", "250ms"}, want: 250 * time.Millisecond},
		{args: []string{"--query-timeout=30s"}, want: 30 * time.Second},
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
		if cfg.QueryTimeout != tc.want {
			t.Errorf("%v: QueryTimeout %v, want %v", tc.args, cfg.QueryTimeout, tc.want)
		}
	}
	var g gatewayFlags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs, "warn")
	if err := fs.Parse([]string{"--query-timeout", "soon"}); err == nil {
		t.Error("--query-timeout soon was accepted")
	}
}
