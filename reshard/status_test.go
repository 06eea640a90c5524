package reshard

import (
	"testing"
	"time"

	"github.com/shardgate/shardgate/topo"
)

func TestStatusRate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &topo.Workflow{Keyspace: "ks", Name: "w", Kind: topo.WorkflowReshard, State: topo.WorkflowCopying,
		SourceShards: []string{"-80", "80-"},
		Copy: map[string]*topo.CopyProgress{
			"-80": {Started: t0, RowsCopied: 1000, RowsTotal: 1000, Done: true, Finished: t0.Add(5 * time.Second)},
			"80-": {Started: t0.Add(time.Second), RowsCopied: 500, RowsTotal: 2000},
		}}
	st := StatusOf(w, t0.Add(10*time.Second))
	if st.RowsCopied != 1500 || st.RowsTotal != 3000 || st.CopyRowsPerSecond != 150 || st.LagSeconds != nil {
		t.Errorf("copying: got %d/%d rows at %v rows/s, lag %v; want 1500/3000 at 150, lag null", st.RowsCopied, st.RowsTotal, st.CopyRowsPerSecond, st.LagSeconds)
	}
	w.Copy["80-"] = &topo.CopyProgress{Started: t0.Add(time.Second), RowsCopied: 2000, RowsTotal: 2000, Done: true, Finished: t0.Add(20 * time.Second)}
	w.State = topo.WorkflowRunning
	st = StatusOf(w, t0.Add(time.Hour))
	if st.CopyRowsPerSecond != 150 {
		t.Errorf("copied: got %v rows/s, want 3000 rows over the 20s the copy took", st.CopyRowsPerSecond)
	}
}

func TestStatusLag(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &topo.Workflow{Keyspace: "ks", Name: "w", Kind: topo.WorkflowReshard, State: topo.WorkflowRunning,
		SourceShards: []string{"-80", "80-"},
		Catchup: map[string]*topo.CatchupProgress{
			"-80": {Position: "0-1-5", RowsApplied: 7, LagSeconds: 0, Updated: t0},
		}}
	if st := StatusOf(w, t0); st.LagSeconds != nil || st.RowsApplied != 7 {
		t.Errorf("one source reported: got lag %v, rows applied %d; want null (80- not reported), 7", st.LagSeconds, st.RowsApplied)
	}
	w.Catchup["80-"] = &topo.CatchupProgress{Position: "0-2-9", RowsApplied: 3, LagSeconds: 2, Updated: t0}
	if st := StatusOf(w, t0.Add(time.Second)); st.LagSeconds == nil || *st.LagSeconds != 2 || st.RowsApplied != 10 || st.Shards[1].CatchupPosition != "0-2-9" {
		t.Errorf("both reported: got lag %v, rows %d, shards %+v; want 2 (the larger), 10, 80- at 0-2-9", st.LagSeconds, st.RowsApplied, st.Shards)
	}
	if st := StatusOf(w, t0.Add(time.Minute)); st.LagSeconds == nil || *st.LagSeconds != 62 {
		t.Errorf("no report for a minute: got lag %v, want 62 (2 reported + 60 unreported)", st.LagSeconds)
	}
}

// The lag is the running replication's: reverse replication's once
// writes are switched (a forward report that stopped at the switch must
// not make it grow), none once the workflow is completed.
func TestStatusLagFollowsTheSwitch(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &topo.Workflow{Keyspace: "ks", Name: "w", Kind: topo.WorkflowReshard, State: topo.WorkflowWritesSwitched,
		SourceShards: []string{"-80"}, TargetShards: []string{"-40", "40-80"},
		Catchup: map[string]*topo.CatchupProgress{"-80": {Position: "0-1-5", RowsApplied: 7, Updated: t0}},
		Reverse: map[string]*topo.CatchupProgress{"-40": {Position: "0-3-2", LagSeconds: 0.5, Updated: t0.Add(time.Minute)}},
	}
	now := t0.Add(time.Minute + time.Second)
	if st := StatusOf(w, now); st.LagSeconds != nil {
		t.Errorf("writes switched, reverse reported for -40 only: got lag %v, want null", *st.LagSeconds)
	}
	w.Reverse["40-80"] = &topo.CatchupProgress{Position: "0-4-2", LagSeconds: 1.5, Updated: t0.Add(time.Minute)}
	if st := StatusOf(w, now); st.LagSeconds == nil || *st.LagSeconds != 1.5 || st.RowsApplied != 7 {
		t.Errorf("writes switched: got lag %v, rows applied %d; want 1.5 (reverse, not the forward report a minute old), 7", st.LagSeconds, st.RowsApplied)
	}
	w.State = topo.WorkflowCompleted
	if st := StatusOf(w, now.Add(time.Hour)); st.LagSeconds != nil {
		t.Errorf("completed: got lag %v, want null (nothing replicates)", *st.LagSeconds)
	}
	w.State = topo.WorkflowRunning
	if st := StatusOf(w, now); st.LagSeconds == nil || *st.LagSeconds != 61 {
		t.Errorf("running again, forward report a minute old: got lag %v, want 61", st.LagSeconds)
	}
}
