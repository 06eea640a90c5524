package reshard

import (
	"time"

	"github.com/shardgate/shardgate/topo"
)

// Status is what `shardctl reshard status --format json` prints.
type Status struct {
	Keyspace     string             `json:"keyspace"`
	Workflow     string             `json:"workflow"`
	Kind         topo.WorkflowKind  `json:"kind"`
	State        topo.WorkflowState `json:"state"`
	SourceShards []string           `json:"source_shards"`
	TargetShards []string           `json:"target_shards"`
	RowsCopied   int64              `json:"rows_copied"`
	// RowsTotal is the rows counted in the copy's snapshots (0 until the
	// copy of every shard has started).
	RowsTotal int64 `json:"rows_total"`
	// CopyRowsPerSecond is the rows copied over the time since the copy
	// started (until the last source shard finished, once all have).
	CopyRowsPerSecond float64 `json:"copy_rows_per_second"`
	// LagSeconds is how far the targets trail the sources: null until
	// catch-up exists (not built yet).
	LagSeconds *float64 `json:"lag_seconds"`
	// ReadPercent is the share of sessions whose reads outside
	// transactions go to the targets (switch-traffic --reads), 0.01 to 100.
	ReadPercent float64       `json:"read_percent"`
	Error       string        `json:"error"`
	Shards      []ShardStatus `json:"shards"`
}

// ShardStatus is the copy progress of one source shard.
type ShardStatus struct {
	Shard        string `json:"shard"`
	SnapshotGTID string `json:"snapshot_gtid"`
	Table        string `json:"table"`
	RowsCopied   int64  `json:"rows_copied"`
	RowsTotal    int64  `json:"rows_total"`
	Done         bool   `json:"done"`
}

// StatusOf summarises a workflow; now is the time rates are measured to
// while it copies.
func StatusOf(w *topo.Workflow, now time.Time) Status {
	st := Status{
		Keyspace:     w.Keyspace,
		Workflow:     w.Name,
		Kind:         w.Kind,
		State:        w.State,
		SourceShards: w.SourceShards,
		TargetShards: w.TargetShards,
		RowsCopied:   w.RowsCopied(),
		RowsTotal:    w.RowsTotal(),
		ReadPercent:  float64(w.ReadPer10000) * 100 / topo.ReadSwitchScale,
		Error:        w.Error,
		Shards:       []ShardStatus{},
	}
	var started, finished time.Time
	allDone := len(w.SourceShards) > 0
	for _, s := range w.SourceShards {
		p := w.Copy[s]
		if p == nil {
			allDone = false
			st.Shards = append(st.Shards, ShardStatus{Shard: s})
			continue
		}
		if !p.Started.IsZero() && (started.IsZero() || p.Started.Before(started)) {
			started = p.Started
		}
		allDone = allDone && p.Done
		if p.Finished.After(finished) {
			finished = p.Finished
		}
		st.Shards = append(st.Shards, ShardStatus{Shard: s, SnapshotGTID: p.SnapshotGTID, Table: p.Table,
			RowsCopied: p.RowsCopied, RowsTotal: p.RowsTotal, Done: p.Done})
	}
	end := now
	if allDone {
		end = finished
	}
	if !started.IsZero() {
		if secs := end.Sub(started).Seconds(); secs > 0 {
			st.CopyRowsPerSecond = float64(st.RowsCopied) / secs
		}
	}
	return st
}
