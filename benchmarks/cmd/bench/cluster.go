package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo/vschema"
)

// The benchmark's keyspaces: one unsharded, one with two shards.
const (
	ksUnsharded = "bench_u"
	ksSharded   = "bench_s"
	// ksUp is leg E's keyspace: the sharded one of `shardgate up`'s demo.
	ksUp = "service"
)

// env is everything a run starts; close stops it all.
type env struct {
	dir     string
	keepDir bool
	cluster *localcluster.Cluster
	// gw serves legs C and D; gwOff, started for leg F, runs with
	// --no-metrics so the two measure what metrics cost; gw2, started
	// for leg G, is a second gateway like gw (G splits sysbench's threads
	// between the two).
	gw    *gatewayProc
	gwOff *gatewayProc
	gw2   *gatewayProc
	relay *relay
	// up is leg E's cluster: `shardgate up` as `make up` runs it (its
	// own etcd, 4 shards with a replica each, the controllers), in a
	// process of its own; upDir is its --data-dir.
	up    *gatewayProc
	upDir string

	// direct is bench_u's mariadbd; shards are bench_s's.
	direct *localcluster.Instance
	shards []*localcluster.Instance
}

// gatewayProc is one `shardgate serve` process.
type gatewayProc struct {
	// stopWait is how long stop waits after SIGTERM before SIGKILL
	// (0: 10 s).
	stopWait time.Duration
	cmd      *exec.Cmd
	addr     string
	status   string // status port address (metrics)
	stopped  chan struct{}
}

func startEnv(ctx context.Context, o options, log io.Writer) (_ *env, err error) {
	dir, err := os.MkdirTemp("", "shardgate-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, keepDir: o.keepDir}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	fmt.Fprintf(log, "bench: starting a local cluster in %s\n", dir)
	e.cluster, err = localcluster.Start(ctx, localcluster.Config{
		Dir:      filepath.Join(dir, "cluster"),
		EtcdAddr: "127.0.0.1:0",
		Keyspaces: []localcluster.KeyspaceSpec{
			{Name: ksUnsharded, VSchema: &vschema.Keyspace{}},
			{Name: ksSharded, Shards: 2, VSchema: &vschema.Keyspace{
				Sharded:  true,
				Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("local cluster: %w", err)
	}
	for _, in := range e.cluster.Instances {
		switch in.Keyspace {
		case ksUnsharded:
			e.direct = in
		case ksSharded:
			e.shards = append(e.shards, in)
		}
	}

	// A transaction that locks rows on two shards can wait for one that
	// locked them in the other order: neither mariadbd sees the cycle, so
	// it ends at innodb_lock_wait_timeout (50 s by default, longer than a
	// leg). Every instance gets 2 s, set before any connection (the
	// gateway's pools included) is opened; sysbench counts the 1205
	// errors as ignored errors, reported per leg.
	for _, in := range e.cluster.Instances {
		if err := execOn(ctx, in, "SET GLOBAL innodb_lock_wait_timeout = 2"); err != nil {
			return nil, err
		}
	}

	bin := filepath.Join(dir, "shardgate")
	fmt.Fprintln(log, "bench: building shardgate")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/shardgate/shardgate/cmd/shardgate")
	build.Stdout, build.Stderr = log, log
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go build shardgate: %w", err)
	}
	if e.gw, err = e.startGateway(ctx, bin, "shardgate.log", o.gwArgs); err != nil {
		return nil, err
	}
	if strings.Contains(o.legs, "F") {
		if e.gwOff, err = e.startGateway(ctx, bin, "shardgate-no-metrics.log", o.gwArgs+" --no-metrics"); err != nil {
			return nil, err
		}
	}
	if strings.Contains(o.legs, "G") {
		if e.gw2, err = e.startGateway(ctx, bin, "shardgate-2.log", o.gwArgs); err != nil {
			return nil, err
		}
	}
	if strings.Contains(o.legs, "E") {
		fmt.Fprintln(log, "bench: starting `shardgate up` (leg E) as `make up` does")
		if e.up, err = e.startUp(ctx, bin, o.upArgs); err != nil {
			return nil, err
		}
	}
	e.relay, err = startRelay(e.direct.Mysqld.Addr())
	if err != nil {
		return nil, err
	}
	return e, nil
}

// startGateway runs `shardgate serve` and reads the addresses it prints.
func (e *env) startGateway(ctx context.Context, bin, logName, extra string) (*gatewayProc, error) {
	args := []string{"serve",
		"--topo-endpoints", strings.Join(e.cluster.Endpoints(), ","),
		"--listen", "127.0.0.1:0",
		"--status-addr", "127.0.0.1:0", "--pprof",
		"--log-level", "warn",
		"--user", "root", // the bootstrap user the benchmark's clients log in as
	}
	args = append(args, strings.Fields(extra)...)
	return e.startProc(ctx, bin, args, logName, 30*time.Second)
}

// startUp runs `shardgate up` with make up's defaults; only its
// addresses are free ports instead of the fixed ones (15306, 2379,
// 15000), so that it runs beside a developer's own cluster. extra
// (-up-args) turns parts of it off to measure what each costs.
func (e *env) startUp(ctx context.Context, bin, extra string) (*gatewayProc, error) {
	e.upDir = filepath.Join(e.dir, "up")
	args := []string{"up", "--data-dir", e.upDir,
		"--listen", "127.0.0.1:0", "--etcd-addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0"}
	args = append(args, strings.Fields(extra)...)
	g, err := e.startProc(ctx, bin, args, "shardgate-up.log", 3*time.Minute)
	if g != nil {
		// up stops its mariadbds before it exits: a SIGKILL would leave
		// them running.
		g.stopWait = 2 * time.Minute
	}
	return g, err
}

// upPids are the mariadbds of leg E's cluster (primaries and replicas:
// the replicas' CPU is part of what the cluster costs).
func (e *env) upPids() ([]int, error) {
	files, err := filepath.Glob(filepath.Join(e.upDir, "*", "*", "mysqld.pid"))
	if err != nil {
		return nil, err
	}
	more, _ := filepath.Glob(filepath.Join(e.upDir, "*", "mysqld.pid"))
	files = append(files, more...)
	var pids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		pids = append(pids, pid)
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("no mysqld.pid under %s", e.upDir)
	}
	return pids, nil
}

// startProc runs a shardgate subcommand that serves clients and reads
// the addresses it prints.
func (e *env) startProc(ctx context.Context, bin string, args []string, logName string, startTimeout time.Duration) (*gatewayProc, error) {
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(e.dir, logName)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	g := &gatewayProc{cmd: cmd, stopped: make(chan struct{})}
	addrs := make(chan [2]string, 1)
	go func() {
		defer close(g.stopped)
		defer logf.Close()
		var a [2]string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if rest, ok := strings.CutPrefix(line, "shardgate: status on http://"); ok {
				a[1] = strings.TrimSuffix(rest, "/metrics")
			}
			if rest, ok := strings.CutPrefix(line, "shardgate: serving MySQL protocol on "); ok {
				a[0] = rest
				addrs <- a
			}
		}
		cmd.Wait()
	}()
	select {
	case a := <-addrs:
		g.addr, g.status = a[0], a[1]
		return g, nil
	case <-g.stopped:
		return nil, fmt.Errorf("shardgate %s exited; see %s", args[0], logPath)
	case <-time.After(startTimeout):
		g.stop()
		return nil, fmt.Errorf("shardgate %s did not start within %s", args[0], startTimeout)
	case <-ctx.Done():
		g.stop()
		return nil, ctx.Err()
	}
}

func (g *gatewayProc) pid() int { return g.cmd.Process.Pid }

// stop ends the process: SIGTERM, then SIGKILL after stopWait.
func (g *gatewayProc) stop() {
	if g == nil || g.cmd.Process == nil {
		return
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	wait := g.stopWait
	if wait == 0 {
		wait = 10 * time.Second
	}
	select {
	case <-g.stopped:
	case <-time.After(wait):
		g.cmd.Process.Kill()
		<-g.stopped
	}
}

// mysqldPid reads an instance's pid file (mariadbd writes it at start).
func mysqldPid(in *localcluster.Instance) (int, error) {
	b, err := os.ReadFile(filepath.Join(in.Mysqld.Dir(), "mysqld.pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func (e *env) close() {
	if e.relay != nil {
		e.relay.close()
	}
	e.gw.stop()
	e.gwOff.stop()
	e.gw2.stop()
	e.up.stop() // SIGTERM: up stops its mariadbds and etcd itself
	if e.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		e.cluster.Stop(ctx)
		cancel()
	}
	if !e.keepDir {
		os.RemoveAll(e.dir)
	}
}

// relay is leg B's hop: it copies bytes between each client and the
// backend and does nothing else.
type relay struct {
	ln net.Listener
	wg sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startRelay(backend string) (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{ln: ln, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				r.pipe(c, backend)
			}()
		}
	}()
	return r, nil
}

func (r *relay) addr() string { return r.ln.Addr().String() }

func (r *relay) pipe(c net.Conn, backend string) {
	b, err := net.Dial("tcp", backend)
	if err != nil {
		c.Close()
		return
	}
	r.mu.Lock()
	r.conns[c], r.conns[b] = struct{}{}, struct{}{}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		io.Copy(b, c)
		b.Close()
		close(done)
	}()
	io.Copy(c, b)
	c.Close()
	<-done
	r.mu.Lock()
	delete(r.conns, c)
	delete(r.conns, b)
	r.mu.Unlock()
}

func (r *relay) close() {
	r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func execOn(ctx context.Context, in *localcluster.Instance, query string) error {
	conn, err := tablet.Dial(ctx, in.Mysqld.ConnConfig())
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Execute(ctx, query)
	return err
}
