package main

import (
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topo"
)

// TestReshardWriteVerbsRefused: the write switch, reverse-traffic and
// complete refuse, exit 1 naming the state, a workflow not in the state
// they work from, and record nothing.
func TestReshardWriteVerbsRefused(t *testing.T) {
	for _, c := range []struct {
		state topo.WorkflowState
		args  []string
	}{
		{topo.WorkflowCopying, []string{"switch-traffic", "--writes"}},
		{topo.WorkflowWritesSwitched, []string{"switch-traffic", "--writes"}},
		{topo.WorkflowCancelled, []string{"switch-traffic", "--writes"}},
		{topo.WorkflowRunning, []string{"reverse-traffic"}},
		{topo.WorkflowReadsSwitched, []string{"reverse-traffic"}},
		{topo.WorkflowRunning, []string{"complete"}},
		{topo.WorkflowCopying, []string{"complete", "--drop"}},
	} {
		t.Run(string(c.state)+" "+strings.Join(c.args, " "), func(t *testing.T) {
			s := switchTopology(t, c.state)
			args := append([]string{"reshard"}, c.args...)
			args = append(args, "--keyspace", "ks", "--workflow", "split")
			_, errs, code := ctl(t, args...)
			if code != exitError || !strings.Contains(errs, "state "+string(c.state)) {
				t.Errorf("%v in state %s: got exit %d (%s), want %d naming the state", c.args, c.state, code, errs, exitError)
			}
			if w := workflowOf(t, s); w.State != c.state || w.WriteSwitch != nil {
				t.Errorf("refused %v: state %s, switch %+v; want %s and none", c.args, w.State, w.WriteSwitch, c.state)
			}
		})
	}
}

// TestReshardSwitchWritesUsage: --reads and --writes go alone, --percent
// only with --reads.
func TestReshardSwitchWritesUsage(t *testing.T) {
	switchTopology(t, topo.WorkflowRunning)
	for _, args := range [][]string{
		{"--reads", "--writes", "--percent", "10"},
		{"--writes", "--percent", "10"},
		{},
	} {
		all := append([]string{"reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split"}, args...)
		if _, errs, code := ctl(t, all...); code != exitUsage {
			t.Errorf("switch-traffic %v: got exit %d (%s), want %d", args, code, errs, exitUsage)
		}
	}
}

// TestReshardSwitchWritesNoController: with no controller running, the
// request is withdrawn after --pickup-timeout and shardctl exits 1
// saying so; the workflow's state is unchanged and a new request works.
func TestReshardSwitchWritesNoController(t *testing.T) {
	s := switchTopology(t, topo.WorkflowRunning)
	start := time.Now()
	_, errs, code := ctl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--writes", "--pickup-timeout", "300ms")
	if code != exitError || !strings.Contains(errs, "no controller") {
		t.Fatalf("switch-traffic --writes without a controller: got exit %d (%s), want %d saying no controller picked it up", code, errs, exitError)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v, want about the pickup timeout", took)
	}
	w := workflowOf(t, s)
	if w.State != topo.WorkflowRunning || w.WriteSwitch == nil || w.WriteSwitch.Phase != topo.SwitchFailed {
		t.Errorf("after the withdrawn request: state %s, switch %+v; want running, phase failed", w.State, w.WriteSwitch)
	}
	out, _, _ := ctl(t, "reshard", "status", "--keyspace", "ks", "--workflow", "split")
	if !strings.Contains(out, "write switch: forward failed") {
		t.Errorf("status after the withdrawn request: %q, want the failed switch shown", out)
	}
}
