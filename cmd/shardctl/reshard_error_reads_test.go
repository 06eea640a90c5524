package main

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/topo"
)

// TestReshardErrorTakesReadsBack: a workflow that stopped in error while
// some reads were switched keeps its targets frozen, so those sessions
// would read older data; switch-traffic --reads --percent 0 takes them
// back (the read switch gone, the workflow still in error with its
// reason), while any other share is refused.
func TestReshardErrorTakesReadsBack(t *testing.T) {
	s := switchTopology(t, topo.WorkflowRunning)
	mustCtl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--reads", "--percent", "40")
	const why = "DDL on source shard -80 at 0-1-9 (ALTER TABLE t ADD c INT)"
	if err := s.UpdateWorkflow(t.Context(), "ks", "split", func(w *topo.Workflow) error {
		w.State, w.Error = topo.WorkflowError, why
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, errs, code := ctl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--reads", "--percent", "100")
	if code != exitError || !strings.Contains(errs, "state error") {
		t.Errorf("--percent 100 in error: got exit %d (%s), want %d naming the state", code, errs, exitError)
	}
	if got := readSwitchOf(t, s); got == nil || got.Per10000 != 4000 {
		t.Errorf("after the refused switch: read switch %+v, want the 40%% one untouched", got)
	}
	mustCtl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--reads", "--percent", "0")
	if got := readSwitchOf(t, s); got != nil {
		t.Errorf("--percent 0 in error: read switch %+v, want none (every session reads the sources)", got)
	}
	if w := workflowOf(t, s); w.State != topo.WorkflowError || w.Error != why || w.ReadPer10000 != 0 {
		t.Errorf("--percent 0 in error: workflow state %s error %q share %d, want error, %q, 0", w.State, w.Error, w.ReadPer10000, why)
	}
}
