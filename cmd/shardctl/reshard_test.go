package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topo"
)

func TestTabletAdd(t *testing.T) {
	mustCtl(t, "keyspace", "create", "ks", "--sharded")
	out := mustCtl(t, "tablet", "add", "--keyspace", "ks", "--shard", "-80", "--type", "primary", "--address", "127.0.0.1:3306")
	if !strings.Contains(out, "added tablet zone1-0000000001") {
		t.Errorf("tablet add: got %q, want the new alias zone1-0000000001", out)
	}
	mustCtl(t, "tablet", "add", "--keyspace", "ks", "--shard", "-40", "--type", "primary", "--address", "127.0.0.1:3307")
	mustCtl(t, "tablet", "add", "--keyspace", "ks", "--shard", "-40", "--type", "replica", "--address", "127.0.0.1:3308", "--uid", "100")

	got := lines(mustCtl(t, "tablet", "list"))
	want := []string{
		"ALIAS KEYSPACE SHARD TYPE ADDRESS HEALTH REPLICATION LAG CHECKED",
		"zone1-0000000001 ks -80 primary 127.0.0.1:3306 unknown - - -",
		"zone1-0000000002 ks -40 primary 127.0.0.1:3307 unknown - - -",
		"zone1-0000000100 ks -40 replica 127.0.0.1:3308 unknown - - -",
	}
	if !slices.Equal(got, want) {
		t.Errorf("tablet list: got %q, want %q", got, want)
	}
	srv, err := store(t).GetSrvKeyspace(t.Context(), "ks")
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Partitions[topo.TabletPrimary]; !slices.Equal(got, []string{"-80"}) {
		t.Errorf("serving shards: got %v, want only -80 (-40 overlaps it)", got)
	}

	for _, bad := range [][]string{
		{"--keyspace", "ks", "--shard", "-80", "--type", "primary"},
		{"--keyspace", "ks", "--shard", "-80", "--type", "leader", "--address", "127.0.0.1:1"},
		{"--keyspace", "ks", "--shard", "-80", "--type", "drained", "--address", "127.0.0.1:1"},
		{"--keyspace", "ks", "--shard", "-80", "--type", "primary", "--address", "127.0.0.1"},
	} {
		if _, _, code := ctl(t, append([]string{"tablet", "add"}, bad...)...); code != exitUsage {
			t.Errorf("tablet add %q: got exit %d, want %d", bad, code, exitUsage)
		}
	}
	if _, errs, code := ctl(t, "tablet", "add", "--keyspace", "nope", "--shard", "-80", "--type", "primary", "--address", "127.0.0.1:1"); code != exitError || !strings.Contains(errs, "doesn't exist") {
		t.Errorf("tablet add to a missing keyspace: got exit %d (%s), want %d and a missing node", code, errs, exitError)
	}
}

func TestReshardCreateChecks(t *testing.T) {
	mustCtl(t, "keyspace", "create", "ks", "--sharded")
	mustCtl(t, "tablet", "add", "--keyspace", "ks", "--shard", "-80", "--type", "primary", "--address", "127.0.0.1:1")
	mustCtl(t, "tablet", "add", "--keyspace", "ks", "--shard", "-40", "--type", "primary", "--address", "127.0.0.1:2")
	for _, c := range []struct {
		targets, want string
	}{
		{"-40,40-90", "must cover the same key range"},
		{"-40,30-80", "overlap"},
		{"-40,40-80", "shard ks/40-80 has no primary tablet"},
	} {
		_, errs, code := ctl(t, "reshard", "create", "--keyspace", "ks", "--workflow", "w", "--source-shards", "-80", "--target-shards", c.targets)
		if code != exitError || !strings.Contains(errs, c.want) {
			t.Errorf("reshard create -80 → %s: got exit %d (%s), want %d saying %q", c.targets, code, errs, exitError, c.want)
		}
	}
	if _, _, code := ctl(t, "reshard", "create", "--keyspace", "ks", "--workflow", "w"); code != exitUsage {
		t.Errorf("reshard create without shards: got exit %d, want %d", code, exitUsage)
	}
}

func TestReshardListAndStatus(t *testing.T) {
	mustCtl(t, "keyspace", "create", "ks", "--sharded")
	err := store(t).CreateWorkflow(t.Context(), &topo.Workflow{Keyspace: "ks", Name: "split", Kind: topo.WorkflowReshard,
		State: topo.WorkflowCopying, SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"},
		Copy: map[string]*topo.CopyProgress{"-80": {Table: "t", RowsCopied: 5, RowsTotal: 20, SnapshotGTID: "0-1-7"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := lines(mustCtl(t, "reshard", "list"))
	want := []string{"KEYSPACE WORKFLOW KIND STATE SOURCES TARGETS ROWS", "ks split reshard copying -80 -40,40-80 5/20"}
	if !slices.Equal(got, want) {
		t.Errorf("reshard list: got %q, want %q", got, want)
	}
	out := mustCtl(t, "reshard", "status", "--keyspace", "ks", "--workflow", "split", "--format", "json")
	var st map[string]any
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --format json: %v in %s", err, out)
	}
	for _, key := range []string{"state", "rows_copied", "rows_total", "copy_rows_per_second", "lag_seconds", "read_percent", "error"} {
		if _, ok := st[key]; !ok {
			t.Errorf("status --format json: no %q in %s", key, out)
		}
	}
	if st["state"] != "copying" || st["rows_copied"] != 5.0 || st["rows_total"] != 20.0 {
		t.Errorf("status --format json: got %s, want copying with 5 of 20 rows", out)
	}
	text := mustCtl(t, "reshard", "status", "--keyspace", "ks", "--workflow", "split")
	if !strings.Contains(text, "state: copying") || !strings.Contains(text, "rows copied: 5 of 20") {
		t.Errorf("status: got %q, want the state and rows", text)
	}
	if _, errs, code := ctl(t, "reshard", "status", "--keyspace", "ks", "--workflow", "nope"); code != exitError || !strings.Contains(errs, "doesn't exist") {
		t.Errorf("status of a missing workflow: got exit %d (%s), want %d", code, errs, exitError)
	}
}

func TestReshardVDiffRefuses(t *testing.T) {
	mustCtl(t, "keyspace", "create", "ks", "--sharded")
	err := store(t).CreateWorkflow(t.Context(), &topo.Workflow{Keyspace: "ks", Name: "split", Kind: topo.WorkflowReshard,
		State: topo.WorkflowCopying, SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, code := ctl(t, "reshard", "vdiff", "--keyspace", "ks"); code != exitUsage {
		t.Errorf("vdiff without --workflow: got exit %d, want %d", code, exitUsage)
	}
	if _, errs, code := ctl(t, "reshard", "vdiff", "--keyspace", "ks", "--workflow", "split"); code != exitError || !strings.Contains(errs, "is copying") {
		t.Errorf("vdiff while copying: got exit %d (%s), want %d saying the workflow is copying", code, errs, exitError)
	}
}

func TestReshardStatusShowsCatchup(t *testing.T) {
	mustCtl(t, "keyspace", "create", "ks", "--sharded")
	now := time.Now().UTC()
	err := store(t).CreateWorkflow(t.Context(), &topo.Workflow{Keyspace: "ks", Name: "split", Kind: topo.WorkflowReshard,
		State: topo.WorkflowRunning, SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"},
		Copy:    map[string]*topo.CopyProgress{"-80": {RowsCopied: 20, RowsTotal: 20, SnapshotGTID: "0-1-7", Done: true}},
		Catchup: map[string]*topo.CatchupProgress{"-80": {Position: "0-1-42", RowsApplied: 35, LagSeconds: 3, Updated: now}}})
	if err != nil {
		t.Fatal(err)
	}
	out := mustCtl(t, "reshard", "status", "--keyspace", "ks", "--workflow", "split", "--format", "json")
	var st struct {
		LagSeconds  *float64 `json:"lag_seconds"`
		RowsApplied int64    `json:"rows_applied"`
		Shards      []struct {
			CatchupPosition string `json:"catchup_position"`
		} `json:"shards"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --format json: %v in %s", err, out)
	}
	if st.LagSeconds == nil || *st.LagSeconds != 3 || st.RowsApplied != 35 || len(st.Shards) != 1 || st.Shards[0].CatchupPosition != "0-1-42" {
		t.Errorf("status --format json: got %s, want lag 3, 35 rows applied, -80 at 0-1-42", out)
	}
	if text := mustCtl(t, "reshard", "status", "--keyspace", "ks", "--workflow", "split"); !strings.Contains(text, "catch-up: lag 3s, 35 row changes applied") {
		t.Errorf("status: got %q, want the catch-up line", text)
	}
}
