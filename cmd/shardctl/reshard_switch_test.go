package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/topo"
)

// switchTopology is keyspace ks with -80 and 80- serving, targets -40 and
// 40-80 with primaries registered, and a copied workflow -80 → -40,40-80
// in state state.
func switchTopology(t *testing.T, state topo.WorkflowState) *topo.Store {
	t.Helper()
	mustCtl(t, "keyspace", "create", "ks", "--sharded")
	for i, sh := range []string{"-80", "80-", "-40", "40-80"} {
		mustCtl(t, "tablet", "add", "--keyspace", "ks", "--shard", sh, "--type", "primary", "--address", fmt.Sprintf("127.0.0.1:%d", 1+i))
	}
	mustCtl(t, "tablet", "add", "--keyspace", "ks", "--shard", "-40", "--type", "replica", "--address", "127.0.0.1:9")
	s := store(t)
	err := s.CreateWorkflow(t.Context(), &topo.Workflow{Keyspace: "ks", Name: "split", Kind: topo.WorkflowReshard,
		State: state, SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readSwitchOf(t *testing.T, s *topo.Store) *topo.ReadSwitch {
	t.Helper()
	srv, err := s.GetSrvKeyspace(t.Context(), "ks")
	if err != nil {
		t.Fatal(err)
	}
	return srv.ReadSwitch
}

func workflowOf(t *testing.T, s *topo.Store) *topo.Workflow {
	t.Helper()
	w, err := s.GetWorkflow(t.Context(), "ks", "split")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestReshardSwitchReads: --percent writes the serving graph's read
// switch (the targets with the shards the workflow doesn't replace) and
// the workflow's share; 100 makes it reads-switched, 0 takes the reads
// back; bad values and states are refused.
func TestReshardSwitchReads(t *testing.T) {
	s := switchTopology(t, topo.WorkflowRunning)
	sw := func(p string) string {
		return mustCtl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--reads", "--percent", p)
	}
	for _, c := range []struct {
		percent  string
		per10000 int
		state    topo.WorkflowState
	}{
		{"0.01", 1, topo.WorkflowRunning},
		{"1", 100, topo.WorkflowRunning},
		{"12.5", 1250, topo.WorkflowRunning},
		{"100", 10000, topo.WorkflowReadsSwitched},
		{"50", 5000, topo.WorkflowRunning},
	} {
		out := sw(c.percent)
		want := &topo.ReadSwitch{Workflow: "split", Shards: []string{"-40", "40-80", "80-"}, Per10000: c.per10000}
		if got := readSwitchOf(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("--percent %s: serving graph's read switch %+v, want %+v", c.percent, got, want)
		}
		w := workflowOf(t, s)
		if w.State != c.state || w.ReadPer10000 != c.per10000 {
			t.Errorf("--percent %s: workflow state %s share %d, want %s %d (output %q)", c.percent, w.State, w.ReadPer10000, c.state, c.per10000, out)
		}
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(mustCtl(t, "reshard", "status", "--keyspace", "ks", "--workflow", "split", "--format", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if st["read_percent"] != 50.0 {
		t.Errorf("status read_percent: got %v, want 50", st["read_percent"])
	}
	for _, bad := range []string{"0.001", "101", "-1", "abc", "1e2", "100.01", "5.", ".5", ""} {
		_, errs, code := ctl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--reads", "--percent", bad)
		if code != exitUsage {
			t.Errorf("--percent %q: got exit %d (%s), want %d", bad, code, errs, exitUsage)
		}
	}
	if _, _, code := ctl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--percent", "5"); code != exitUsage {
		t.Errorf("switch-traffic without --reads: got exit %d, want %d", code, exitUsage)
	}
	if got := readSwitchOf(t, s); got == nil || got.Per10000 != 5000 {
		t.Errorf("after refused commands: read switch %+v, want the 50%% one untouched", got)
	}
	sw("0")
	if got := readSwitchOf(t, s); got != nil {
		t.Errorf("--percent 0: read switch %+v, want none", got)
	}
	if w := workflowOf(t, s); w.State != topo.WorkflowRunning || w.ReadPer10000 != 0 {
		t.Errorf("--percent 0: workflow state %s share %d, want running 0", w.State, w.ReadPer10000)
	}
}

func TestReshardSwitchReadsWhileCopying(t *testing.T) {
	s := switchTopology(t, topo.WorkflowCopying)
	_, errs, code := ctl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--reads", "--percent", "10")
	if code != exitError || !strings.Contains(errs, "state copying") {
		t.Errorf("switch-traffic while copying: got exit %d (%s), want %d naming the state", code, errs, exitError)
	}
	if got := readSwitchOf(t, s); got != nil {
		t.Errorf("refused switch left a read switch: %+v", got)
	}
}

// TestReshardCancel: cancel takes reads back, moves the workflow to
// cancelled and removes the targets' tablets and shards; the sources
// keep serving. A second cancel is harmless.
func TestReshardCancel(t *testing.T) {
	s := switchTopology(t, topo.WorkflowRunning)
	mustCtl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--reads", "--percent", "30")
	out := mustCtl(t, "reshard", "cancel", "--keyspace", "ks", "--workflow", "split")
	if !strings.Contains(out, "cancelled workflow ks/split") {
		t.Errorf("cancel: got %q", out)
	}
	if got := readSwitchOf(t, s); got != nil {
		t.Errorf("after cancel: read switch %+v, want none", got)
	}
	if w := workflowOf(t, s); w.State != topo.WorkflowCancelled || w.ReadPer10000 != 0 {
		t.Errorf("after cancel: workflow state %s share %d, want cancelled 0", w.State, w.ReadPer10000)
	}
	shards, err := s.ListShards(t.Context(), "ks")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sh := range shards {
		names = append(names, sh.Name)
	}
	if !slices.Equal(names, []string{"-80", "80-"}) {
		t.Errorf("shards after cancel: got %v, want [-80 80-]", names)
	}
	tablets, err := s.ListTablets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tablets {
		if tb.Shard != "-80" && tb.Shard != "80-" {
			t.Errorf("tablet %s of target %s is still in the topology", tb.Alias, tb.Shard)
		}
	}
	srv, err := s.GetSrvKeyspace(t.Context(), "ks")
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Partitions[topo.TabletPrimary]; !slices.Equal(got, []string{"-80", "80-"}) {
		t.Errorf("serving shards after cancel: %v, want [-80 80-]", got)
	}
	mustCtl(t, "reshard", "cancel", "--keyspace", "ks", "--workflow", "split")
	if _, errs, code := ctl(t, "reshard", "switch-traffic", "--keyspace", "ks", "--workflow", "split", "--reads", "--percent", "1"); code != exitError || !strings.Contains(errs, "cancelled") {
		t.Errorf("switch-traffic after cancel: got exit %d (%s), want %d", code, errs, exitError)
	}
}

func TestReshardCancelAfterWriteSwitch(t *testing.T) {
	s := switchTopology(t, topo.WorkflowWritesSwitched)
	if _, errs, code := ctl(t, "reshard", "cancel", "--keyspace", "ks", "--workflow", "split"); code != exitError || !strings.Contains(errs, "writes-switched") {
		t.Errorf("cancel after the write switch: got exit %d (%s), want %d", code, errs, exitError)
	}
	if w := workflowOf(t, s); w.State != topo.WorkflowWritesSwitched {
		t.Errorf("refused cancel changed the state to %s", w.State)
	}
}
