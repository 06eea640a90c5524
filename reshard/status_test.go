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
