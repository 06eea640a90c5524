package reshard

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/topo"
)

// The kill test's controller processes are this test binary started again
// with these variables: runnerProcessEnv names the process (its election
// ID), the others say where the topology is.
const (
	runnerProcessEnv   = "RESHARD_TEST_RUNNER_ID"
	runnerEndpointsEnv = "RESHARD_TEST_RUNNER_ENDPOINTS"
	runnerRootEnv      = "RESHARD_TEST_RUNNER_ROOT"
)

// runnerProcess runs a resharding controller until it is killed: small
// copy chunks with a pause after each, so that a copy lasts long enough
// to be killed in, and a 2-second lease, so that another takes over soon.
func runnerProcess() int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx := context.Background()
	store, err := topo.Open(ctx, topo.Config{Endpoints: strings.Split(os.Getenv(runnerEndpointsEnv), ","), Root: os.Getenv(runnerRootEnv)})
	if err != nil {
		logger.Error("runner process: topology", "err", err)
		return 1
	}
	NewRunner(Config{
		Store: store, Conn: rootConn, ID: os.Getenv(runnerProcessEnv),
		Interval: 50 * time.Millisecond, LeaseTTL: 2, ChunkRows: 100, Logger: logger,
		AfterChunk: func(string, string, string, topo.CopyProgress) { time.Sleep(150 * time.Millisecond) },
	}).Run(ctx)
	return 0
}

// runnerProcesses starts and kills controller processes.
type runnerProcesses struct {
	t     *testing.T
	e     *splitEnv
	mu    sync.Mutex
	procs map[string]*exec.Cmd
	n     int
}

func (rp *runnerProcesses) start() {
	rp.t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.n++
	id := fmt.Sprintf("runner-%d", rp.n)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), runnerProcessEnv+"="+id,
		runnerEndpointsEnv+"="+strings.Join(rp.e.cluster.Etcd.Endpoints(), ","), runnerRootEnv+"="+rp.e.store.Root())
	logFile, err := os.Create(filepath.Join(rp.t.TempDir(), id+".log"))
	if err != nil {
		rp.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A controller outliving a test that dies would write into the
	// next one's shards.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		rp.t.Fatal(err)
	}
	logFile.Close()
	rp.procs[id] = cmd
}

// leader returns the ID of the live controller that leads, waiting for
// one (a killed leader's key stays until its lease expires).
func (rp *runnerProcesses) leader(ctx context.Context) (string, error) {
	for {
		resp, err := rp.e.store.Client().Get(ctx, rp.e.store.ReshardElectionPrefix()+"/", clientv3.WithFirstCreate()...)
		if err != nil {
			return "", err
		}
		if len(resp.Kvs) > 0 {
			id := string(resp.Kvs[0].Value)
			rp.mu.Lock()
			alive := rp.procs[id] != nil
			rp.mu.Unlock()
			if alive {
				return id, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill SIGKILLs a controller and waits for it to be gone.
func (rp *runnerProcesses) kill(id string) {
	rp.mu.Lock()
	cmd := rp.procs[id]
	delete(rp.procs, id)
	rp.mu.Unlock()
	if cmd == nil {
		rp.t.Fatalf("no controller process %q", id)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

func (rp *runnerProcesses) killAll() {
	rp.mu.Lock()
	ids := make([]string, 0, len(rp.procs))
	for id := range rp.procs {
		ids = append(ids, id)
	}
	rp.mu.Unlock()
	for _, id := range ids {
		rp.kill(id)
	}
}

// TestCatchupSurvivesControllerKills runs the controller in separate
// processes, two at a time, and SIGKILLs the leading one at random points
// of the copy (4 times) and of the catch-up (3 times, each after the
// leader applied for a while) while a writer changes the sources;
// each time another takes over (and a new process joins). In the end the
// targets equal the sources, row for row, and vdiff is clean.
func TestCatchupSurvivesControllerKills(t *testing.T) {
	e := startSplitEnv(t)
	e.create(t)
	rp := &runnerProcesses{t: t, e: e, procs: map[string]*exec.Cmd{}}
	t.Cleanup(rp.killAll)

	w := e.newWriter(t, 3)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				w.step(t)
			}
		}
	}()
	stopWriter := sync.OnceFunc(func() { close(stop); <-done })
	defer stopWriter()

	// An XA transaction prepared before the copy and committed while it
	// waits: the copy's snapshot must wait for it, or its rows would be
	// in neither the copy nor catch-up's events.
	xaID := w.next
	for e.sourceOf(t, xaID) != "80-" {
		xaID++
	}
	w.next = xaID + 1
	xc := e.dial(t, e.cluster.Primary(testKeyspace, "80-").Mysqld.Addr())
	defer xc.Close()
	for _, q := range []string{"XA START 'before-copy'", fmt.Sprintf("INSERT INTO customer VALUES (%d, 'xa before copy', NULL, 1)", xaID),
		"XA END 'before-copy'", "XA PREPARE 'before-copy'"} {
		e.exec(t, xc, q)
	}

	rp.start()
	rp.start()
	time.Sleep(1500 * time.Millisecond)
	if wf, err := e.store.GetWorkflow(t.Context(), testKeyspace, "split"); err != nil || wf.Copy["80-"] != nil {
		t.Errorf("with an XA transaction prepared on 80-: got copy progress %+v (%v), want none until it ends", wf.Copy["80-"], err)
	}
	e.exec(t, xc, "XA COMMIT 'before-copy'")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	t.Logf("kill seed time %v", time.Now())
	kills := map[topo.WorkflowState]int{}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	// Kills during catch-up count once the killed leader had applied
	// and reported something (a report a second, from a leader's start).
	reported := func(wf *topo.Workflow) bool {
		for _, p := range wf.Catchup {
			if p.Updated.After(wf.Copy[wf.SourceShards[0]].Finished) {
				return true
			}
		}
		return false
	}
	for kills[topo.WorkflowRunning] < 3 {
		id, err := rp.leader(ctx)
		if err != nil {
			t.Fatalf("waiting for a leader: %v (kills so far %v)", err, kills)
		}
		elected := time.Now()
		time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond)
		wf, err := e.store.GetWorkflow(ctx, testKeyspace, "split")
		if err != nil {
			t.Fatal(err)
		}
		if wf.State == topo.WorkflowCopying && kills[topo.WorkflowCopying] >= 4 {
			// Enough kills in the copy: let this leader finish it.
			for wf.State == topo.WorkflowCopying && ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
				if wf, err = e.store.GetWorkflow(ctx, testKeyspace, "split"); err != nil {
					t.Fatal(err)
				}
			}
		}
		if wf.State == topo.WorkflowRunning {
			// Let this leader apply for a while first.
			time.Sleep(time.Duration(1000+rng.IntN(1500)) * time.Millisecond)
			if wf, err = e.store.GetWorkflow(ctx, testKeyspace, "split"); err != nil {
				t.Fatal(err)
			}
		}
		if wf.State == topo.WorkflowError {
			t.Fatalf("workflow in state error: %s", wf.Error)
		}
		rp.kill(id)
		if wf.State != topo.WorkflowRunning || reported(wf) {
			kills[wf.State]++
		}
		t.Logf("killed the leading controller %s %v after its election, while %s (%d rows copied, catch-up %v)",
			id, time.Since(elected).Round(time.Millisecond), wf.State, wf.RowsCopied(), catchupPositions(wf))
		rp.start()
	}
	if kills[topo.WorkflowCopying] < 3 {
		t.Errorf("kills during the copy: got %d, want at least 3 (the copy ended too soon)", kills[topo.WorkflowCopying])
	}
	stopWriter()
	e.waitCaughtUp(t, "split")
	e.checkTargetsMatchSources(t)
	rep := e.vdiff(t)
	if !rep.Clean {
		t.Errorf("vdiff after the kills: got differences, want clean")
	}
	c := e.dial(t, e.targets[e.targetOf(t, xaID)].Addr())
	if res := e.exec(t, c, fmt.Sprintf("SELECT name FROM customer WHERE id = %d", xaID)); len(res.Rows) != 1 {
		t.Errorf("the XA transaction committed during the copy: got %d rows of it on its target, want 1", len(res.Rows))
	}
	c.Close()
	t.Logf("%d changes by the writer, %d rows moved, kills %v", w.ops, len(w.moved), kills)
}

func catchupPositions(w *topo.Workflow) map[string]string {
	out := map[string]string{}
	for s, p := range w.Catchup {
		out[s] = fmt.Sprintf("%s (%d rows applied)", p.Position, p.RowsApplied)
	}
	return out
}
