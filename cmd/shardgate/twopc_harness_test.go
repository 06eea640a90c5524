package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/twopc"
	"github.com/shardgate/shardgate/vindex"
)

// twopcHarness is a local cluster (keyspace service, 4 shards) and the
// shardgate and shardctl binaries, for tests that kill gateway processes.
type twopcHarness struct {
	t        *testing.T
	dir      string
	cluster  *localcluster.Cluster
	bin      string // shardgate
	shardctl string
	shards   []string
}

func newTwoPCHarness(t *testing.T) *twopcHarness {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster and gateway processes")
	}
	dir := t.TempDir()
	h := &twopcHarness{t: t, dir: dir, bin: filepath.Join(dir, "shardgate"), shardctl: filepath.Join(dir, "shardctl"),
		shards: []string{"-40", "40-80", "80-c0", "c0-"}}
	for pkg, out := range map[string]string{".": h.bin, "../shardctl": h.shardctl} {
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, b)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Config{
		Dir: filepath.Join(dir, "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{{Name: "service", Shards: 4, VSchema: &vschema.Keyspace{
			Sharded:  true,
			Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
		}}},
		EtcdAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })
	h.cluster = c
	return h
}

// gatewayProc is one `shardgate serve` process.
type gatewayProc struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
	err    error // after exited
	mu     sync.Mutex
	log    strings.Builder
}

// startGateway starts `shardgate serve` on addr ("" picks a free port)
// with extra flags; crashAfter arms the --twopc-crash-after failpoint.
func (h *twopcHarness) startGateway(addr, crashAfter string, extra ...string) *gatewayProc {
	h.t.Helper()
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			h.t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	args := []string{"serve", "--listen", addr,
		"--topo-endpoints", strings.Join(h.cluster.Endpoints(), ","), "--topo-root", h.cluster.Store.Root(),
		"--twopc-lease-ttl", "2", "--twopc-resolve-interval", "200ms", "--log-level", "warn",
		"--user", "root"} // the bootstrap user the harness's clients log in as
	if crashAfter != "" {
		args = append(args, "--twopc-crash-after", crashAfter)
	}
	args = append(args, extra...)
	cmd := exec.Command(h.bin, args...)
	cmd.Env = append(os.Environ(), failpointEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	g := &gatewayProc{cmd: cmd, addr: addr, exited: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &g.mu, b: &g.log}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	serving := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving MySQL protocol") {
				once.Do(func() { close(serving) })
			}
		}
	}()
	go func() {
		g.err = cmd.Wait()
		close(g.exited)
	}()
	h.t.Cleanup(func() { g.kill() })
	select {
	case <-serving:
	case <-g.exited:
		h.t.Fatalf("gateway exited at start: %v\n%s", g.err, g.stderr())
	case <-time.After(30 * time.Second):
		h.t.Fatalf("gateway not serving within 30s\n%s", g.stderr())
	}
	return g
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (g *gatewayProc) stderr() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.log.String()
}

// kill SIGKILLs the process (if it runs) and waits for it.
func (g *gatewayProc) kill() {
	select {
	case <-g.exited:
		return
	default:
	}
	_ = g.cmd.Process.Kill()
	<-g.exited
}

// waitExit waits for the process to end by itself.
func (g *gatewayProc) waitExit(limit time.Duration) error {
	select {
	case <-g.exited:
		return g.err
	case <-time.After(limit):
		return fmt.Errorf("still running after %s", limit)
	}
}

func (g *gatewayProc) db(t testing.TB, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service?%s", g.addr, params))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// shardDB is a direct connection to a shard's primary.
func (h *twopcHarness) shardDB(shard string) *sql.DB {
	h.t.Helper()
	in := h.cluster.Primary("service", shard)
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service", in.Mysqld.Addr()))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	return db
}

// shardOfID names the shard owning id under the hash vindex.
func (h *twopcHarness) shardOfID(id int64) string {
	v, _ := vindex.New("hash", "hash", nil)
	ksid, err := v.(vindex.Functional).Map(id)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, s := range h.shards {
		kr, _ := vindex.ParseKeyRange(s)
		if kr.Contains(ksid) {
			return s
		}
	}
	h.t.Fatalf("no shard for %d", id)
	return ""
}

// prepared counts each shard's prepared XA branches.
func (h *twopcHarness) prepared() map[string]int {
	out := map[string]int{}
	for _, s := range h.shards {
		rows, err := h.shardDB(s).Query("xa recover")
		if err != nil {
			h.t.Fatal(err)
		}
		for rows.Next() {
			out[s]++
		}
		rows.Close()
	}
	return out
}

// resolveConfig is what twopc.Inspect/Resolve need for this cluster.
func (h *twopcHarness) resolveConfig() twopc.ResolveConfig {
	return twopc.ResolveConfig{
		Client: h.cluster.Store.Client(),
		Root:   h.cluster.Store.Root(),
		Conn:   tablet.ConnConfig{User: "root"},
		Primaries: func(ctx context.Context) ([]twopc.Primary, error) {
			return twopc.Primaries(ctx, h.cluster.Store)
		},
	}
}

// waitResolved waits until no prepared branch and no decision record is
// left, and says how long it took (rounded for traces).
func (h *twopcHarness) waitResolved(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		txs, err := twopc.Inspect(context.Background(), h.resolveConfig())
		if err == nil && len(txs) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still unresolved after %s: %d transactions (err %v)", limit, len(txs), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var dtidRE = regexp.MustCompile(`\b[0-9a-f]{6,}-\d+\b`)

// shardctlRun runs the shardctl binary against the cluster; dtids in its
// output become DTID so traces are stable.
func (h *twopcHarness) shardctlRun(args ...string) string {
	full := append([]string{"--topo-endpoints", strings.Join(h.cluster.Endpoints(), ","), "--topo-root", h.cluster.Store.Root()}, args...)
	out, err := exec.Command(h.shardctl, full...).CombinedOutput()
	s := dtidRE.ReplaceAllString(string(out), "DTID")
	s = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(s, "ADDR")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\dT[\d:.]+Z`).ReplaceAllString(s, "TIME")
	// Whether the dead coordinator's lease has expired yet depends on
	// timing; masked dtids also break the table's alignment.
	s = regexp.MustCompile(`\b(alive|gone)\b`).ReplaceAllString(s, "alive|gone")
	s = regexp.MustCompile(` {2,}`).ReplaceAllString(s, "  ")
	if err != nil {
		s += "exit: " + err.Error() + "\n"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
