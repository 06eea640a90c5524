package main

import (
	"flag"
	"time"

	"github.com/shardgate/shardgate/gateway"
)

// Defaults of serve's and up's timeouts that protect the shards' pools
// (docs/SECURITY.md says why these values).
const (
	// defaultQueryTimeout: a statement on a frozen shard answers 1969
	// after this instead of holding its client forever (vttablet's
	// query timeout is 30 s too).
	defaultQueryTimeout = 30 * time.Second
	// defaultTxIdleTimeout: a client that opens a transaction and goes
	// quiet gives its shard connections back after this.
	defaultTxIdleTimeout = 60 * time.Second
)

// limitFlags are the connection limits of serve and up (gateway.Limits).
type limitFlags struct {
	maxConns, maxUserConns       int
	handshake, netRead, poolWait time.Duration
	loginBurst                   int
	loginInterval                time.Duration
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.maxConns, "max-connections", gateway.DefaultMaxConnections, "client connections open at once, logged in or not; more get error 1040 (-1: no limit)")
	fs.IntVar(&l.maxUserConns, "max-user-connections", 0, "connections per user; more get error 1203 (0: no limit)")
	fs.DurationVar(&l.handshake, "handshake-timeout", gateway.DefaultHandshakeTimeout, "longest a client may take to log in")
	fs.DurationVar(&l.netRead, "net-read-timeout", gateway.DefaultNetReadTimeout, "longest wait for the rest of a packet a client has started sending (like MySQL's net_read_timeout)")
	fs.DurationVar(&l.poolWait, "pool-wait-timeout", gateway.DefaultPoolWaitTimeout, "longest a statement waits for a free connection to a tablet when all --pool-size are in use (-1ns: as long as the statement may run)")
	fs.IntVar(&l.loginBurst, "login-failure-burst", gateway.DefaultLoginFailureBurst, "failed logins allowed at once from one client address before it gets error 1129 (-1: no limit)")
	fs.DurationVar(&l.loginInterval, "login-failure-interval", gateway.DefaultLoginFailureInterval, "one more failed login is allowed per address after each interval")
}

func (l *limitFlags) apply(cfg *gateway.Config) {
	cfg.Limits = gateway.Limits{
		MaxConnections:       l.maxConns,
		MaxUserConnections:   l.maxUserConns,
		HandshakeTimeout:     l.handshake,
		NetReadTimeout:       l.netRead,
		LoginFailureBurst:    l.loginBurst,
		LoginFailureInterval: l.loginInterval,
	}
	cfg.Backend.PoolWaitTimeout = l.poolWait
}
