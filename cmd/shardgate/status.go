package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/console"
	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/querystats"
	"github.com/shardgate/shardgate/topo"
)

// upStatusAddr is where `shardgate up` serves its status port unless told
// otherwise; `serve` serves none unless --status-addr is given.
const upStatusAddr = "127.0.0.1:15000"

// obsFlags are the observability flags `serve` and `up` share.
type obsFlags struct {
	pprof          bool
	noMetrics      bool
	queryLog       string
	queryLogSample float64
	slowQuery      time.Duration
	maxDigests     int
}

func (o *obsFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.pprof, "pprof", false, "serve /debug/pprof/ on the status port (off by default: its cmdline page shows the process's arguments, passwords included)")
	fs.BoolVar(&o.noMetrics, "no-metrics", false, "turn off the Prometheus statement metrics and query digests (to measure their cost)")
	fs.StringVar(&o.queryLog, "query-log", "", "write the query log (JSON lines) to this file, or - for stdout; empty: off")
	fs.Float64Var(&o.queryLogSample, "query-log-sample", 1, "fraction (0 to 1) of the statements the query log would take that it logs; 0 logs none")
	fs.DurationVar(&o.slowQuery, "slow-query-threshold", 0, "with --query-log: log only statements slower than this (and failing ones); 0 logs all")
	fs.IntVar(&o.maxDigests, "query-digests", querystats.DefaultMaxDigests, "query digests kept for SHOW QUERY STATS and the console (the least run are dropped)")
}

// apply sets the gateway config's observability fields; the returned
// close ends the query log file.
func (o *obsFlags) apply(cfg *gateway.Config, stdout io.Writer) (closeLog func(), err error) {
	cfg.DisableMetrics = o.noMetrics
	cfg.MaxQueryDigests = o.maxDigests
	closeLog = func() {}
	if o.queryLog == "" {
		return closeLog, nil
	}
	if o.queryLogSample < 0 || o.queryLogSample > 1 {
		return nil, fmt.Errorf("--query-log-sample %v: want a fraction from 0 to 1", o.queryLogSample)
	}
	w := stdout
	if o.queryLog != "-" {
		f, err := os.OpenFile(o.queryLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--query-log: %w", err)
		}
		w, closeLog = f, func() { f.Close() }
	}
	cfg.QueryLog = querystats.NewLog(querystats.LogConfig{W: w, SampleRate: o.queryLogSample, SlowThreshold: o.slowQuery})
	return closeLog, nil
}

// statusPort is what the status port serves beyond the gateway itself.
type statusPort struct {
	addr  string
	obs   obsFlags
	store *topo.Store
	// user and password log the console's VEXPLAIN box in to the gateway.
	user, password string
}

// serveStatusPort serves the console, its API, /metrics and (with
// --pprof) pprof for srv until the returned stop is called.
func serveStatusPort(p statusPort, srv *gateway.Server, stdout io.Writer) (stop func(), err error) {
	dsn := mysql.NewConfig()
	dsn.User, dsn.Passwd, dsn.Net, dsn.Addr = p.user, p.password, "tcp", srv.Addr()
	c, err := console.New(console.Config{Gateway: srv, Store: p.store, GatewayDSN: dsn.FormatDSN(), Pprof: p.obs.pprof})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		c.Close()
		return nil, err
	}
	hs := &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		hs.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	fmt.Fprintf(stdout, "shardgate: status on http://%s/metrics\n", ln.Addr())
	fmt.Fprintf(stdout, "shardgate: console on http://%s/\n", ln.Addr())
	return func() {
		hs.Close()
		<-done
		c.Close()
	}, nil
}

// defaultStatusAddr gives `up` a status port unless the flag was set.
func defaultStatusAddr(fs *flag.FlagSet, g *gatewayFlags) {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "status-addr" })
	if !set {
		g.statusAddr = cmp.Or(g.statusAddr, upStatusAddr)
	}
}
