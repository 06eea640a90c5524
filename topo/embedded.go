package topo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap/zapcore"
)

// EmbeddedConfig configures an in-process, single-member etcd server.
type EmbeddedConfig struct {
	// Dir is etcd's data directory (required). Data survives a restart
	// with the same Dir.
	Dir string
	// ClientAddr is the host:port clients connect to. Port 0 picks a free
	// port. Default "127.0.0.1:2379", the endpoint shardctl uses by default.
	ClientAddr string
	// PeerAddr is the host:port of the raft peer listener, which a single
	// member never dials but etcd still opens. Default "127.0.0.1:0".
	PeerAddr string
	// Logger receives etcd's own error-level logs. Nil discards them.
	Logger *slog.Logger
}

// DefaultClientAddr is where an embedded etcd listens unless told
// otherwise, and where shardctl looks for the topology by default.
const DefaultClientAddr = "127.0.0.1:2379"

// embeddedName is the member name; it must stay the same across restarts
// of one data directory.
const embeddedName = "shardgate"

// Embedded is a running in-process etcd server. Its goroutines belong to
// the etcd server and stop in Close.
type Embedded struct {
	etcd      *embed.Etcd
	endpoints []string
	quiet     *atomic.Bool // silences etcd's logs of its own shutdown
	closeOnce sync.Once
}

// StartEmbedded starts an etcd server and waits until it serves clients.
// When a port is picked freely and another process takes it before etcd
// binds it, StartEmbedded picks again, a few times.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.Dir == "" {
		return nil, errors.New("topo: embedded etcd: Dir is required")
	}
	if cfg.ClientAddr == "" {
		cfg.ClientAddr = DefaultClientAddr
	}
	if cfg.PeerAddr == "" {
		cfg.PeerAddr = "127.0.0.1:0"
	}
	const attempts = 5
	var lastErr error
	for range attempts {
		e, err := startEmbeddedOnce(ctx, cfg)
		if err == nil {
			return e, nil
		}
		lastErr = err
		if !errors.Is(err, syscall.EADDRINUSE) || !(hasFreePort(cfg.ClientAddr) || hasFreePort(cfg.PeerAddr)) {
			break
		}
	}
	return nil, lastErr
}

func startEmbeddedOnce(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	clientAddr, err := pickAddr(cfg.ClientAddr)
	if err != nil {
		return nil, fmt.Errorf("topo: embedded etcd client address: %w", err)
	}
	peerAddr, err := pickAddr(cfg.PeerAddr)
	if err != nil {
		return nil, fmt.Errorf("topo: embedded etcd peer address: %w", err)
	}
	clientURL := url.URL{Scheme: "http", Host: clientAddr}
	peerURL := url.URL{Scheme: "http", Host: peerAddr}

	ec := embed.NewConfig()
	ec.Name = embeddedName
	ec.Dir = cfg.Dir
	ec.ListenClientUrls = []url.URL{clientURL}
	ec.AdvertiseClientUrls = []url.URL{clientURL}
	ec.ListenPeerUrls = []url.URL{peerURL}
	ec.AdvertisePeerUrls = []url.URL{peerURL}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	quiet := new(atomic.Bool)
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapToSlog(cfg.Logger, zapcore.ErrorLevel, quiet))
	// Topology changes are rare; keep an hour of history for watchers that
	// reconnect, and no more.
	ec.AutoCompactionMode = "periodic"
	ec.AutoCompactionRetention = "1h"

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("topo: start embedded etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("topo: embedded etcd in %s failed while starting: %w", cfg.Dir, err)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("topo: waiting for embedded etcd in %s: %w", cfg.Dir, ctx.Err())
	}
	return &Embedded{etcd: e, endpoints: []string{clientURL.String()}, quiet: quiet}, nil
}

// Endpoints returns the client URLs, ready for Config.Endpoints.
func (e *Embedded) Endpoints() []string {
	return append([]string(nil), e.endpoints...)
}

// Close stops the server and waits for its goroutines. It is safe to call
// more than once. Close clients first: a client still watching holds
// Close up for etcd's request timeout (about 7s) before the stream is cut.
func (e *Embedded) Close() error {
	e.closeOnce.Do(func() {
		e.quiet.Store(true)
		e.etcd.Close()
	})
	return nil
}

// pickAddr returns addr, with a port 0 replaced by a port that was free a
// moment ago.
func pickAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return addr, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	picked := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", err
	}
	return picked, nil
}

func hasFreePort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port == "0"
}
