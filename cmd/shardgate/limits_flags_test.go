package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
)

func parseGatewayFlags(t *testing.T, args ...string) gateway.Config {
	t.Helper()
	var g gatewayFlags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs, "warn")
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	cfg, err := g.config(nil, nil)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return cfg
}

// TestLimitFlags: serve's and up's limits default to the gateway's
// defaults, with the transaction idle timeout on, and each flag reaches
// the gateway's Config.
func TestLimitFlags(t *testing.T) {
	cfg := parseGatewayFlags(t)
	want := gateway.Limits{
		MaxConnections:       gateway.DefaultMaxConnections,
		HandshakeTimeout:     gateway.DefaultHandshakeTimeout,
		NetReadTimeout:       gateway.DefaultNetReadTimeout,
		LoginFailureBurst:    gateway.DefaultLoginFailureBurst,
		LoginFailureInterval: gateway.DefaultLoginFailureInterval,
	}
	if cfg.Limits != want {
		t.Errorf("defaults: got %+v, want %+v", cfg.Limits, want)
	}
	if cfg.Backend.PoolWaitTimeout != gateway.DefaultPoolWaitTimeout || cfg.TwoPC.IdleTimeout != defaultTxIdleTimeout {
		t.Errorf("defaults: pool wait %v, transaction idle %v, want %v, %v", cfg.Backend.PoolWaitTimeout, cfg.TwoPC.IdleTimeout, gateway.DefaultPoolWaitTimeout, defaultTxIdleTimeout)
	}
	cfg = parseGatewayFlags(t, "--max-connections=7", "--max-user-connections=3", "--handshake-timeout=2s",
		"--net-read-timeout=5s", "--pool-wait-timeout=1s", "--login-failure-burst=4", "--login-failure-interval=3s",
		"--transaction-idle-timeout=0")
	want = gateway.Limits{MaxConnections: 7, MaxUserConnections: 3, HandshakeTimeout: 2 * time.Second,
		NetReadTimeout: 5 * time.Second, LoginFailureBurst: 4, LoginFailureInterval: 3 * time.Second}
	if cfg.Limits != want || cfg.Backend.PoolWaitTimeout != time.Second || cfg.TwoPC.IdleTimeout != 0 {
		t.Errorf("set: got %+v, pool wait %v, idle %v", cfg.Limits, cfg.Backend.PoolWaitTimeout, cfg.TwoPC.IdleTimeout)
	}
}
