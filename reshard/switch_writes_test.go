package reshard

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

func TestPositionsStatement(t *testing.T) {
	got, err := positionsStatement("ks", "split:reverse", map[string]string{"80-": "0-2-7", "-80": "0-1-5,1-9-3"})
	if err != nil {
		t.Fatal(err)
	}
	want := "REPLACE INTO `_shardgate`.`reshard_position` VALUES ('ks','split:reverse','-80','0-1-5,1-9-3','0-1-5,1-9-3'),('ks','split:reverse','80-','0-2-7','0-2-7')"
	if got != want {
		t.Errorf("positionsStatement:\n got %s\nwant %s", got, want)
	}
	if _, err := positionsStatement("ks", "split", map[string]string{"-80": "x"}); err == nil {
		t.Error("positionsStatement with a bad position: got no error")
	}
}

func TestSwitchSides(t *testing.T) {
	w := &topo.Workflow{Keyspace: "ks", Name: "split", SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"}}
	fwd, rev := sidesOf(w, topo.SwitchForward), sidesOf(w, topo.SwitchReverse)
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"forward from", fwd.from, []string{"-80"}},
		{"forward to", fwd.to, []string{"-40", "40-80"}},
		{"forward inbound", fwd.inbound(), "split"},
		{"forward outbound", fwd.outbound(), "split:reverse"},
		{"forward state", fwd.stateAfter(), topo.WorkflowWritesSwitched},
		{"reverse from", rev.from, []string{"-40", "40-80"}},
		{"reverse to", rev.to, []string{"-80"}},
		{"reverse inbound", rev.inbound(), "split:reverse"},
		{"reverse outbound", rev.outbound(), "split"},
		{"reverse state", rev.stateAfter(), topo.WorkflowRunning},
	} {
		if s, ok := c.got.([]string); ok {
			if !slices.Equal(s, c.want.([]string)) {
				t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
			}
		} else if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}

// TestWriteSwitchTakeover: a controller that dies mid-switch leaves the
// switch's phase in the workflow; the next leader rolls a switch in
// phase holding back (sources writable again, hold released, phase
// failed, state unchanged, graph on the sources) and finishes one in
// phase flipped (hold released, sources read-only, phase done); reverse
// replication then brings a write made on a target to its source.
func TestWriteSwitchTakeover(t *testing.T) {
	e := startSplitEnv(t)
	e.create(t)
	e.run(t, Config{ID: "copier"})
	ctx := t.Context()
	sources, targets := []string{"-80", "80-"}, []string{"-40", "40-80", "80-c0", "c0-"}
	srcConns := map[string]*tablet.Conn{}
	for _, s := range sources {
		srcConns[s] = e.dial(t, e.cluster.Primary(testKeyspace, s).Mysqld.Addr())
		defer srcConns[s].Close()
	}
	// dead leaves what a controller that died in phase holding leaves: the
	// phase recorded, the hold placed, the sources read-only.
	dead := func(id string) {
		t.Helper()
		now := time.Now().UTC()
		ws := &topo.WriteSwitch{ID: id, Direction: topo.SwitchForward, Timeout: 10 * time.Second, Requested: now,
			Phase: topo.SwitchHolding, HoldPlaced: now, HoldDeadline: now.Add(10 * time.Second)}
		if err := e.store.UpdateWorkflow(ctx, testKeyspace, "split", func(w *topo.Workflow) error {
			w.WriteSwitch = ws
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := e.store.PlaceHold(ctx, &topo.Hold{ID: id, Keyspace: testKeyspace, Shards: sources, Reroute: true, Deadline: ws.HoldDeadline}); err != nil {
			t.Fatal(err)
		}
		for _, c := range srcConns {
			if err := tablet.SetReadOnly(ctx, c, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitPhase := func(id string) *topo.Workflow {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			w, err := e.store.GetWorkflow(ctx, testKeyspace, "split")
			if err != nil {
				t.Fatal(err)
			}
			if ws := w.WriteSwitch; ws != nil && ws.ID == id && ws.Over() {
				return w
			}
			if time.Now().After(deadline) {
				t.Fatalf("switch %s: still in phase %s after 30 s", id, w.WriteSwitch.Phase)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	checkHolds := func(what string) {
		t.Helper()
		holds, err := e.store.ListHolds(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(holds) != 0 {
			t.Errorf("%s: holds %v left, want none", what, holds[0].ID)
		}
	}
	readOnly := func(s string) bool {
		t.Helper()
		return string(e.exec(t, srcConns[s], "SELECT @@global.read_only").Rows[0][0]) == "1"
	}

	// Died before the flip: rolled back.
	dead("dead-before-flip")
	stop := e.startRunner(t, Config{ID: "next"})
	w := waitPhase("dead-before-flip")
	stop()
	if w.WriteSwitch.Phase != topo.SwitchFailed || !strings.Contains(w.WriteSwitch.Error, "before the flip") || w.State != topo.WorkflowRunning {
		t.Errorf("after takeover before the flip: phase %s (%s), state %s; want failed naming the flip, running", w.WriteSwitch.Phase, w.WriteSwitch.Error, w.State)
	}
	for _, s := range sources {
		if readOnly(s) {
			t.Errorf("after the rollback source %s is read-only, want writable", s)
		}
	}
	checkHolds("after the rollback")
	if srv, err := e.store.GetSrvKeyspace(ctx, testKeyspace); err != nil || !slices.Equal(srv.Partitions[topo.TabletPrimary], sources) {
		t.Errorf("after the rollback the graph serves %v (%v), want the sources", srv.Partitions[topo.TabletPrimary], err)
	}

	// Died after the flip: finished. The dead controller had stored where
	// reverse replication starts, as a switch does before it flips.
	dead("dead-after-flip")
	start := map[string]string{}
	for _, name := range targets {
		c := e.dial(t, e.targets[name].Addr())
		pos, err := binlogPos(ctx, c)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		start[name] = pos
	}
	stmt, err := positionsStatement(testKeyspace, positionName("split", true), start)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range srcConns {
		if err := ensurePositionTable(ctx, c); err != nil {
			t.Fatal(err)
		}
		e.exec(t, c, stmt)
	}
	if err := e.store.FlipServing(ctx, testKeyspace, "split", sources, targets, func(w *topo.Workflow) error {
		w.WriteSwitch.Phase, w.State = topo.SwitchFlipped, topo.WorkflowWritesSwitched
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.startRunner(t, Config{ID: "last"})
	w = waitPhase("dead-after-flip")
	if w.WriteSwitch.Phase != topo.SwitchDone || w.State != topo.WorkflowWritesSwitched {
		t.Errorf("after takeover after the flip: phase %s (%s), state %s; want done, writes-switched", w.WriteSwitch.Phase, w.WriteSwitch.Error, w.State)
	}
	checkHolds("after finishing")
	for _, s := range sources {
		if !readOnly(s) {
			t.Errorf("after finishing source %s is writable, want read-only", s)
		}
	}
	// Reverse replication: a row written on its target reaches its source.
	const id = 987654
	owner := e.targetOf(t, id)
	tc := e.dial(t, e.targets[owner].Addr())
	defer tc.Close()
	e.exec(t, tc, "INSERT INTO customer (id, name) VALUES (987654, 'written on the target')")
	src := srcConns[e.sourceOf(t, id)]
	deadline := time.Now().Add(15 * time.Second)
	for {
		res := e.exec(t, src, "SELECT name FROM customer WHERE id = 987654")
		if len(res.Rows) == 1 && string(res.Rows[0][0]) == "written on the target" {
			break
		}
		if time.Now().After(deadline) {
			w, _ := e.store.GetWorkflow(ctx, testKeyspace, "split")
			t.Fatalf("row written on target %s not on source %s after 15 s (workflow error %q)", owner, e.sourceOf(t, id), w.Error)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
