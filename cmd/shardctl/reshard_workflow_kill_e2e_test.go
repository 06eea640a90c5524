package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/reshard"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// The kill test's controllers are this test binary started again with
// these variables: controllerProcessEnv names the process (its election
// ID), the others say where the topology is.
const (
	controllerProcessEnv   = "SHARDCTL_TEST_CONTROLLER_ID"
	controllerEndpointsEnv = "SHARDCTL_TEST_CONTROLLER_ENDPOINTS"
	controllerRootEnv      = "SHARDCTL_TEST_CONTROLLER_ROOT"
)

// controllerProcess runs a resharding controller until it is killed, with
// a 2-second lease so that another takes over soon after.
func controllerProcess() int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx := context.Background()
	store, err := topo.Open(ctx, topo.Config{Endpoints: strings.Split(os.Getenv(controllerEndpointsEnv), ","), Root: os.Getenv(controllerRootEnv)})
	if err != nil {
		logger.Error("controller process: topology", "err", err)
		return 1
	}
	reshard.NewRunner(reshard.Config{Store: store, Conn: tablet.ConnConfig{User: tablet.RootUser}, ID: os.Getenv(controllerProcessEnv),
		Interval: 50 * time.Millisecond, LeaseTTL: 2, ChunkRows: 200, Logger: logger}).Run(ctx)
	return 0
}

// controllers starts and SIGKILLs controller processes.
type controllers struct {
	t     *testing.T
	store *topo.Store
	mu    sync.Mutex
	procs map[string]*exec.Cmd
	n     int
}

func (c *controllers) start() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	id := fmt.Sprintf("controller-%d", c.n)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), controllerProcessEnv+"="+id,
		controllerEndpointsEnv+"="+strings.Join(c.store.Client().Endpoints(), ","), controllerRootEnv+"="+c.store.Root())
	logFile, err := os.Create(filepath.Join(c.t.TempDir(), id+".log"))
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A controller outliving a test that dies would act on the next
	// one's shards.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	logFile.Close()
	c.procs[id] = cmd
}

// leader returns the ID of the live controller that leads, waiting for
// one (a killed leader's key stays until its lease expires).
func (c *controllers) leader(ctx context.Context) (string, error) {
	for {
		resp, err := c.store.Client().Get(ctx, c.store.ReshardElectionPrefix()+"/", clientv3.WithFirstCreate()...)
		if err != nil {
			return "", err
		}
		if len(resp.Kvs) > 0 {
			id := string(resp.Kvs[0].Value)
			c.mu.Lock()
			alive := c.procs[id] != nil
			c.mu.Unlock()
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
func (c *controllers) kill(id string) {
	c.mu.Lock()
	cmd := c.procs[id]
	delete(c.procs, id)
	c.mu.Unlock()
	if cmd == nil {
		c.t.Fatalf("no controller process %q", id)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

func (c *controllers) killAll() {
	c.mu.Lock()
	ids := make([]string, 0, len(c.procs))
	for id := range c.procs {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.kill(id)
	}
}

// killedSwitch asks for a write switch in direction dir and SIGKILLs the
// leading controller once the switch is holding the keyspace (after a
// random further 0–300 ms, so the kill lands anywhere from the hold to
// the flip and after), or with afterHold as soon as it is past holding
// (flipped, or done), starts a new process, and waits for the outcome
// the next leader reaches: the switch finished, or rolled back. It
// returns whether the switch is done and the phase the kill came in.
func (e *wfEnv) killedSwitch(t *testing.T, c *controllers, rng *rand.Rand, dir topo.SwitchDirection, afterHold bool) (bool, topo.SwitchPhase) {
	t.Helper()
	ctx := t.Context()
	id, err := c.leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := reshard.RequestWriteSwitch(ctx, e.store(), wfKeyspace, wfWorkflow, dir, 0)
	if err != nil {
		t.Fatalf("request %s switch: %v", dir, err)
	}
	var phase topo.SwitchPhase
	for deadline := time.Now().Add(30 * time.Second); ; {
		w, err := e.store().GetWorkflow(ctx, wfKeyspace, wfWorkflow)
		if err != nil {
			t.Fatal(err)
		}
		if w.WriteSwitch != nil && w.WriteSwitch.ID == ws.ID && w.WriteSwitch.Phase != topo.SwitchRequested {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s switch not picked up in 30 s", dir)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if afterHold {
		// Kill as soon as the switch is past holding: flipped (the graph
		// names the new side, the hold not yet released) or just done.
		for phase == "" || phase == topo.SwitchHolding || phase == topo.SwitchRequested {
			w, err := e.store().GetWorkflow(ctx, wfKeyspace, wfWorkflow)
			if err != nil {
				t.Fatal(err)
			}
			phase = w.WriteSwitch.Phase
		}
	} else {
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		if w, err := e.store().GetWorkflow(ctx, wfKeyspace, wfWorkflow); err == nil && w.WriteSwitch != nil {
			phase = w.WriteSwitch.Phase
		}
	}
	c.kill(id)
	c.start()
	w, err := reshard.AwaitWriteSwitch(ctx, e.store(), wfKeyspace, wfWorkflow, ws.ID, time.Minute)
	switch {
	case err == nil:
		t.Logf("%s switch, leader %s killed in phase %s: finished by the next leader, writes held %v", dir, id, phase, w.WriteSwitch.Stall.Round(time.Millisecond))
		return true, phase
	case errors.Is(err, reshard.ErrSwitchFailed):
		t.Logf("%s switch, leader %s killed in phase %s: rolled back by the next leader (%v)", dir, id, phase, err)
		return false, phase
	}
	t.Fatalf("%s switch, leader killed in phase %s: %v", dir, phase, err)
	return false, phase
}

// checkServingSide checks that the serving graph names want and that its
// primaries take writes (a rolled-back switch must leave them writable).
func (e *wfEnv) checkServingSide(t *testing.T, what string, want []string) {
	t.Helper()
	if got := e.servingPrimaries(t); !slices.Equal(got, want) {
		t.Fatalf("%s: serving %v, want %v", what, got, want)
	}
	for _, s := range want {
		var ro int
		if err := e.shardDB(t, s).QueryRow("SELECT @@global.read_only").Scan(&ro); err != nil {
			t.Fatal(err)
		}
		if ro != 0 {
			t.Errorf("%s: serving primary %s is read-only, want writable", what, s)
		}
	}
}

// soakSwitchKillsEnv sets how many killed write switches
// TestWriteSwitchSurvivesControllerKills makes (`make soak`; default 3).
const soakSwitchKillsEnv = "SHARDGATE_SOAK_SWITCH_KILLS"

// switchKillPlan is the directions of the killed switches: forward,
// reverse, forward, ..., ending forward (so the workflow can complete).
func switchKillPlan(t *testing.T) []topo.SwitchDirection {
	n := 3
	if v := os.Getenv(soakSwitchKillsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", soakSwitchKillsEnv, v)
		}
	}
	if n%2 == 0 {
		n++
	}
	plan := make([]topo.SwitchDirection, n)
	for i := range plan {
		plan[i] = topo.SwitchForward
		if i%2 == 1 {
			plan[i] = topo.SwitchReverse
		}
	}
	return plan
}

// TestWriteSwitchSurvivesControllerKills merges -80,80- into - with the
// controller running as separate processes, two at a time, while the
// writer runs; each write switch (to the target, back with
// reverse-traffic, to the target again) has its leading controller
// SIGKILLed after it started holding the keyspace: at a random point
// (the odd switches), or right past the hold (the even ones). make soak
// runs more switches (soakSwitchKillsEnv).
// The next leader either finishes the switch or rolls it back (the
// serving side then writable again), and a rolled-back switch is asked
// for again. In the end vdiff is clean and every acknowledged write is
// on both sides, exactly as acknowledged.
func TestWriteSwitchSurvivesControllerKills(t *testing.T) {
	targets := []string{"-"}
	e := startWorkflowEnv(t, targets, false)
	c := &controllers{t: t, store: e.store(), procs: map[string]*exec.Cmd{}}
	t.Cleanup(c.killAll)
	c.start()
	c.start()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	w := e.startWriter(t)
	e.ctl(t, "create", "--source-shards", strings.Join(e.sources, ","), "--target-shards", strings.Join(targets, ","))
	e.waitWorkflow(t, "the copy", func(st reshard.Status) bool { return st.State == topo.WorkflowRunning })
	e.readSwitch(t, w, "100")

	kills := map[topo.SwitchPhase]int{}
	for i, dir := range switchKillPlan(t) {
		from, to := e.sources, targets
		if dir == topo.SwitchReverse {
			from, to = targets, e.sources
		}
		n := fmt.Sprintf("%d. %s switch", i+1, dir)
		w.setPhase(n + ", controller killed")
		// Switches 1, 3, 5, ... lose their controller while holding,
		// 2, 4, ... right past the hold.
		done, phase := e.killedSwitch(t, c, rng, dir, i%2 == 1)
		kills[phase]++
		if !done {
			e.checkServingSide(t, "after a rolled-back "+string(dir)+" switch", from)
			time.Sleep(500 * time.Millisecond)
			w.setPhase(n + ", again")
			if _, err := c.leader(t.Context()); err != nil {
				t.Fatal(err)
			}
			e.ctl(t, map[topo.SwitchDirection]string{topo.SwitchForward: "switch-traffic", topo.SwitchReverse: "reverse-traffic"}[dir],
				map[topo.SwitchDirection][]string{topo.SwitchForward: {"--writes"}, topo.SwitchReverse: nil}[dir]...)
		}
		e.checkServingSide(t, "after the "+string(dir)+" switch", to)
		w.setPhase(n + " done")
		time.Sleep(time.Second)
		if dir == topo.SwitchReverse {
			t.Logf("vdiff after the reverse switch, under writes:\n%s", e.ctl(t, "vdiff"))
		}
	}
	w.halt()
	w.report(t)
	for _, err := range w.takeErrors() {
		// A write held when its controller died may fail (the hold's
		// deadline, a source set read-only for the switch); its outcome
		// is known (an error before commit) or its rows are skipped.
		t.Logf("write failed: %v", err)
	}
	e.waitSideMatches(t, "target (serving)", targets, w)
	e.waitSideMatches(t, "sources (by reverse replication)", e.sources, w)
	e.ctl(t, "complete")
	t.Logf("kills by the phase they came in: %v", kills)
}
