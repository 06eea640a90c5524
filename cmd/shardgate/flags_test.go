package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
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

// TestFailoverFlags: `up` and `serve` run the failover controller unless
// --failover=false, with the detection and damping flags given.
func TestFailoverFlags(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		want   failoverFlags
		reject bool
	}{
		{args: nil, want: failoverFlags{enabled: true, detectAfter: 2 * time.Second, dampWindow: 30 * time.Second}},
		{args: []string{"--failover=false"}, want: failoverFlags{enabled: false, detectAfter: 2 * time.Second, dampWindow: 30 * time.Second}},
		{args: []string{"--failover-detect-after", "5s", "--failover-damp-window=1m"}, want: failoverFlags{enabled: true, detectAfter: 5 * time.Second, dampWindow: time.Minute}},
		{args: []string{"--failover-detect-after", "soon"}, reject: true},
	} {
		var g gatewayFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		g.register(fs, "warn")
		err := fs.Parse(tc.args)
		if tc.reject {
			if err == nil {
				t.Errorf("%v: accepted, want an error", tc.args)
			}
			continue
		}
		if err != nil || g.failover != tc.want {
			t.Errorf("%v: got %+v, %v, want %+v", tc.args, g.failover, err, tc.want)
		}
	}
}

// TestReplicaLagLimitFlag: `up` and `serve` take --replica-lag-limit
// (default 30s) into the gateway's ReplicaLagLimit and refuse a limit
// that is not a positive duration.
func TestReplicaLagLimitFlag(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		want   time.Duration
		reject bool
	}{
		{args: nil, want: 30 * time.Second},
		{args: []string{"--replica-lag-limit", "5s"}, want: 5 * time.Second},
		{args: []string{"--replica-lag-limit=2m"}, want: 2 * time.Minute},
		{args: []string{"--replica-lag-limit", "soon"}, reject: true},
		{args: []string{"--replica-lag-limit", "0s"}, reject: true},
	} {
		var g gatewayFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		g.register(fs, "warn")
		err := fs.Parse(tc.args)
		var cfg gateway.Config
		if err == nil {
			cfg, err = g.config(nil, nil)
		}
		if tc.reject {
			if err == nil {
				t.Errorf("%v: accepted (ReplicaLagLimit %v), want an error", tc.args, cfg.ReplicaLagLimit)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if cfg.ReplicaLagLimit != tc.want {
			t.Errorf("%v: ReplicaLagLimit %v, want %v", tc.args, cfg.ReplicaLagLimit, tc.want)
		}
	}
}
