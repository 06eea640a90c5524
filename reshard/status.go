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
	// LagSeconds is how far the targets trail the sources: now minus the
	// source timestamp of the last applied transaction, the largest over
	// the source shards, 0 when caught up; null until catch-up has
	// reported for every source shard.
	LagSeconds *float64 `json:"lag_seconds"`
	// RowsApplied counts the row changes catch-up applied to the targets.
	RowsApplied int64 `json:"rows_applied"`
	// ReadPercent is the share of sessions whose reads outside
	// transactions go to the targets (switch-traffic --reads), 0.01 to 100.
	ReadPercent float64 `json:"read_percent"`
	// WriteStallMs is how long the last successful write switch
	// (switch-traffic --writes or reverse-traffic) held the keyspace's
	// statements, in milliseconds; MaxWriteStallMs the longest of any.
	WriteStallMs    float64 `json:"write_stall_ms"`
	MaxWriteStallMs float64 `json:"max_write_stall_ms"`
	// WriteSwitch is the last write switch asked for, nil if none.
	WriteSwitch *WriteSwitchStatus `json:"write_switch,omitempty"`
	Error       string             `json:"error"`
	Shards      []ShardStatus      `json:"shards"`
}

// WriteSwitchStatus is where the last write switch is or how it ended.
type WriteSwitchStatus struct {
	ID        string               `json:"id"`
	Direction topo.SwitchDirection `json:"direction"`
	Phase     topo.SwitchPhase     `json:"phase"`
	StallMs   float64              `json:"stall_ms"`
	Error     string               `json:"error"`
}

// ShardStatus is the copy progress of one source shard.
type ShardStatus struct {
	Shard        string `json:"shard"`
	SnapshotGTID string `json:"snapshot_gtid"`
	Table        string `json:"table"`
	RowsCopied   int64  `json:"rows_copied"`
	RowsTotal    int64  `json:"rows_total"`
	Done         bool   `json:"done"`
	// CatchupPosition is the source position applied to every target.
	CatchupPosition string `json:"catchup_position"`
}

// staleReport is how old a catch-up report may be before status counts
// the time since as lag.
const staleReport = 5 * time.Second

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

		WriteStallMs:    float64(w.LastWriteStall) / float64(time.Millisecond),
		MaxWriteStallMs: float64(w.MaxWriteStall) / float64(time.Millisecond),
	}
	if ws := w.WriteSwitch; ws != nil {
		st.WriteSwitch = &WriteSwitchStatus{ID: ws.ID, Direction: ws.Direction, Phase: ws.Phase,
			StallMs: float64(ws.Stall) / float64(time.Millisecond), Error: ws.Error}
	}
	var lag float64
	lagKnown := len(w.SourceShards) > 0
	for _, s := range w.SourceShards {
		p := w.Catchup[s]
		if p == nil {
			lagKnown = false
			continue
		}
		st.RowsApplied += p.RowsApplied
		l := p.LagSeconds
		if silent := now.Sub(p.Updated); silent > staleReport {
			// No controller has reported for a while (catch-up reports
			// every second): nothing is applied, so the lag grows.
			l += silent.Seconds()
		}
		lag = max(lag, l)
	}
	if lagKnown && w.State != topo.WorkflowCopying {
		st.LagSeconds = &lag
	}
	var started, finished time.Time
	allDone := len(w.SourceShards) > 0
	for _, s := range w.SourceShards {
		p := w.Copy[s]
		if p == nil {
			allDone = false
			st.Shards = append(st.Shards, ShardStatus{Shard: s, CatchupPosition: w.Catchup[s].GetPosition()})
			continue
		}
		if !p.Started.IsZero() && (started.IsZero() || p.Started.Before(started)) {
			started = p.Started
		}
		allDone = allDone && p.Done
		if p.Finished.After(finished) {
			finished = p.Finished
		}
		ss := ShardStatus{Shard: s, SnapshotGTID: p.SnapshotGTID, Table: p.Table,
			RowsCopied: p.RowsCopied, RowsTotal: p.RowsTotal, Done: p.Done}
		ss.CatchupPosition = w.Catchup[s].GetPosition()
		st.Shards = append(st.Shards, ss)
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
