package topo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// WorkflowKind says what a workflow moves.
type WorkflowKind string

// The workflow kinds.
const (
	// WorkflowReshard splits or merges shards of one keyspace.
	WorkflowReshard WorkflowKind = "reshard"
	// WorkflowMoveTables moves tables from one keyspace to another.
	WorkflowMoveTables WorkflowKind = "movetables"
)

// WorkflowState is where a workflow is in its life. The controller moves
// it forward; an operator's command may cancel it.
type WorkflowState string

// The workflow states, in the order a workflow goes through them.
const (
	// WorkflowCopying: the rows of the source shards are being copied.
	WorkflowCopying WorkflowState = "copying"
	// WorkflowRunning: copied; the targets catch up from the binlogs.
	WorkflowRunning WorkflowState = "running"
	// WorkflowReadsSwitched: (some) reads go to the targets.
	WorkflowReadsSwitched WorkflowState = "reads-switched"
	// WorkflowWritesSwitched: the targets serve writes.
	WorkflowWritesSwitched WorkflowState = "writes-switched"
	// WorkflowCompleted: the sources are out of the serving graph.
	WorkflowCompleted WorkflowState = "completed"
	// WorkflowCancelled: stopped before any write switch.
	WorkflowCancelled WorkflowState = "cancelled"
	// WorkflowError: stopped on an error (Workflow.Error) an operator
	// must look at.
	WorkflowError WorkflowState = "error"
)

// WorkflowStates lists the states in life order.
func WorkflowStates() []WorkflowState {
	return []WorkflowState{WorkflowCopying, WorkflowRunning, WorkflowReadsSwitched,
		WorkflowWritesSwitched, WorkflowCompleted, WorkflowCancelled, WorkflowError}
}

// Workflow is a resharding or table move, recorded so that whichever
// controller leads carries it on where the last one stopped.
type Workflow struct {
	Keyspace string        `json:"keyspace"`
	Name     string        `json:"name"`
	Kind     WorkflowKind  `json:"kind"`
	State    WorkflowState `json:"state"`
	// SourceShards and TargetShards are shard names of Keyspace, in key
	// order.
	SourceShards []string `json:"source_shards"`
	TargetShards []string `json:"target_shards"`
	// MoveTables is what a movetables workflow moves (nil for a
	// reshard): Keyspace is then the target keyspace, TargetShards its
	// shards, SourceShards the source keyspace's ("0" for an external
	// source).
	MoveTables *MoveTables `json:"movetables,omitempty"`
	// Copy is the copy phase's progress, by source shard.
	Copy map[string]*CopyProgress `json:"copy,omitempty"`
	// Catchup is the binlog catch-up's progress, by source shard (from
	// state running on).
	Catchup map[string]*CatchupProgress `json:"catchup,omitempty"`
	// VDiff is a vdiff's request that the catch-up pause (nil: none).
	VDiff *VDiffRequest `json:"vdiff,omitempty"`
	// ProvisionTargets is set by create when the targets have no instances
	// yet and a local provisioner (`shardgate up`) starts them: it starts
	// them, copies the schema and clears the flag; the copy waits for that.
	ProvisionTargets bool `json:"provision_targets,omitempty"`
	// ReadPer10000 is the share of the keyspace's sessions whose reads go
	// to the targets (`switch-traffic --reads`), in 1/ReadSwitchScale; the
	// serving graph's ReadSwitch is what gateways route by.
	ReadPer10000 int `json:"read_per_10000,omitempty"`
	// WriteSwitch is the last write switch asked for (`switch-traffic
	// --writes`, `reverse-traffic`) and how it went; the controller
	// carries it out (reshard/switch_writes.go).
	WriteSwitch *WriteSwitch `json:"write_switch,omitempty"`
	// Reverse is reverse replication's progress (targets → sources), by
	// target shard, while writes are switched.
	Reverse map[string]*CatchupProgress `json:"reverse,omitempty"`
	// LastWriteStall is how long the last successful write switch held
	// the keyspace's writes (hold placed → released); MaxWriteStall the
	// longest of any.
	LastWriteStall time.Duration `json:"last_write_stall_ns,omitempty"`
	MaxWriteStall  time.Duration `json:"max_write_stall_ns,omitempty"`
	// SourcesDropped is set by `complete --drop`: the sources' tables are
	// dropped, and a local provisioner stops the instances it started for
	// them.
	SourcesDropped bool `json:"sources_dropped,omitempty"`
	// Error says why the workflow is in state error; empty otherwise.
	Error   string    `json:"error,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// MoveTables says where a movetables workflow's tables come from.
type MoveTables struct {
	// SourceKeyspace is the keyspace the tables leave; empty for an
	// external source.
	SourceKeyspace string `json:"source_keyspace,omitempty"`
	// Tables are the tables moved, sorted.
	Tables []string `json:"tables"`
	// External is a MySQL/MariaDB shardgate doesn't manage, the source
	// instead of SourceKeyspace.
	External *ExternalSource `json:"external,omitempty"`
	// Reverse names the workflow (in SourceKeyspace) that replicates the
	// target back into the source once writes are switched, so that
	// reverse-traffic finds the source current; ReverseOf is set on that
	// workflow and names this one.
	Reverse   string `json:"reverse,omitempty"`
	ReverseOf string `json:"reverse_of,omitempty"`
	// MaxWriteStallSeconds is the longest write stall of this workflow's
	// traffic switches (switch-traffic --writes, reverse-traffic).
	MaxWriteStallSeconds float64 `json:"max_write_stall_seconds,omitempty"`
}

// ExternalSource is how to reach a source database outside the topology.
// The password is stored as given: anyone who can read etcd can read it
// (docs/SECURITY.md).
type ExternalSource struct {
	Address  string `json:"address"`
	DB       string `json:"db"`
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
}

// SwitchDirection says which way a write switch moves the writes.
type SwitchDirection string

// The write switch directions.
const (
	// SwitchForward moves writes from the sources to the targets
	// (`switch-traffic --writes`).
	SwitchForward SwitchDirection = "forward"
	// SwitchReverse moves them back (`reverse-traffic`).
	SwitchReverse SwitchDirection = "reverse"
)

// WriteSwitch is a write switch: asked for by shardctl (Phase
// requested), carried out by the controller, which records each phase
// before acting on it so that a controller taking over knows what a dead
// one left (reshard/switch_writes.go).
type WriteSwitch struct {
	// ID names the request; the hold placed for it has the same id.
	ID        string          `json:"id"`
	Direction SwitchDirection `json:"direction"`
	// Timeout bounds the switch: the hold's deadline is this long after
	// it is placed, and every live gateway must acknowledge before.
	Timeout   time.Duration `json:"timeout_ns"`
	Requested time.Time     `json:"requested"`
	Phase     SwitchPhase   `json:"phase"`
	// HoldPlaced is when the hold was placed; HoldDeadline its deadline.
	HoldPlaced   time.Time `json:"hold_placed,omitzero"`
	HoldDeadline time.Time `json:"hold_deadline,omitzero"`
	// FinalPositions are the GTID positions of the shards that stop
	// serving, read once they were read-only; StartPositions those of the
	// shards that start serving, where the catch-up that now runs the
	// other way starts.
	FinalPositions map[string]string `json:"final_positions,omitempty"`
	StartPositions map[string]string `json:"start_positions,omitempty"`
	// Stall is hold placed → released (0 until done).
	Stall    time.Duration `json:"stall_ns,omitempty"`
	Finished time.Time     `json:"finished,omitzero"`
	// Error says why the switch failed (Phase failed): the writes stayed
	// where they were.
	Error string `json:"error,omitempty"`
}

// SwitchPhase is where a write switch is.
type SwitchPhase string

// The write switch phases.
const (
	SwitchRequested SwitchPhase = "requested"
	// SwitchHolding: the hold may be placed and the old side read-only;
	// a controller taking over rolls back.
	SwitchHolding SwitchPhase = "holding"
	// SwitchFlipped: the serving graph names the new side (written in the
	// same etcd transaction as the state); a controller taking over
	// finishes the switch.
	SwitchFlipped SwitchPhase = "flipped"
	SwitchDone    SwitchPhase = "done"
	SwitchFailed  SwitchPhase = "failed"
)

// Over reports whether nothing is left to do for the switch (true for
// none).
func (ws *WriteSwitch) Over() bool {
	return ws == nil || ws.Phase == SwitchDone || ws.Phase == SwitchFailed
}

// CopyProgress is how far the copy of one source shard went. It is saved
// after each chunk is committed on the targets, so a new controller
// resumes after the last committed chunk.
type CopyProgress struct {
	// SnapshotGTID is the source's GTID position of the first consistent
	// snapshot the copy read from (binlog_snapshot_gtid_pos). A resumed
	// copy reads from a later snapshot, so catch-up must start here, the
	// earliest, and apply events idempotently.
	SnapshotGTID string `json:"snapshot_gtid,omitempty"`
	// CatchupFromGTID is where catch-up starts reading the source's
	// binlog: a little before SnapshotGTID, so it sees the XA PREPARE of
	// a transaction prepared before the snapshot and committed after
	// (what it reads up to SnapshotGTID is in the copy and not applied).
	// Empty in workflows recorded before it existed: SnapshotGTID then.
	CatchupFromGTID string `json:"catchup_from_gtid,omitempty"`
	// Tables are the tables to copy, in copy order; Table is the one being
	// copied (empty before the first), LastPK the primary key of its last
	// copied row as text values (nil: none yet).
	Tables []string `json:"tables,omitempty"`
	Table  string   `json:"table,omitempty"`
	LastPK []string `json:"last_pk,omitempty"`
	// RowsCopied counts rows committed on the targets; RowsTotal is the
	// rows counted in the snapshot (for a resumed copy: copied plus those
	// left in the new snapshot).
	RowsCopied int64 `json:"rows_copied"`
	RowsTotal  int64 `json:"rows_total"`
	// Started is when the copy of this shard first started, Finished
	// when every table was copied (Done).
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	Done     bool      `json:"done,omitempty"`
}

// CatchupProgress is how far the binlog catch-up of one source shard
// went, as the controller last reported it (about once a second). The
// authoritative position is on the targets, written in the same
// transaction as the rows (reshard's position table).
type CatchupProgress struct {
	// Position is the source GTID position applied to every target.
	Position string `json:"position,omitempty"`
	// RowsApplied counts the source's row changes applied to the targets
	// by this and earlier controllers (each once however many targets it
	// touched; re-applied events after a restart count again).
	RowsApplied int64 `json:"rows_applied"`
	// LagSeconds is now minus the source timestamp of the last applied
	// event, 0 when the stream is idle and applied.
	LagSeconds float64   `json:"lag_seconds"`
	Updated    time.Time `json:"updated,omitzero"`
}

// GetPosition is p's Position, "" for a nil p.
func (p *CatchupProgress) GetPosition() string {
	if p == nil {
		return ""
	}
	return p.Position
}

// VDiffRequest is how a vdiff stops the catch-up at one position of every
// source: it asks for a pause (StopAt empty); each source's catch-up
// pauses between transactions and acknowledges in Paused; the vdiff then
// sets StopAt (the sources' positions in its snapshots), the catch-up
// applies up to there and acknowledges in Reached; once the vdiff has
// snapshotted the targets it removes the request and catch-up resumes.
type VDiffRequest struct {
	ID        string            `json:"id"`
	Requested time.Time         `json:"requested"`
	StopAt    map[string]string `json:"stop_at,omitempty"`
	Paused    map[string]string `json:"paused,omitempty"`
	Reached   map[string]string `json:"reached,omitempty"`
}

// RowsCopied sums the rows copied over the source shards.
func (w *Workflow) RowsCopied() int64 {
	var n int64
	for _, p := range w.Copy {
		n += p.RowsCopied
	}
	return n
}

// RowsTotal sums the source shards' row counts (0 for a shard whose copy
// has not started).
func (w *Workflow) RowsTotal() int64 {
	var n int64
	for _, p := range w.Copy {
		n += p.RowsTotal
	}
	return n
}

func (s *Store) workflowsDir() string { return s.root + "/workflows/" }

// ReshardElectionPrefix is where the resharding controllers campaign
// (etcd concurrency.Election).
func (s *Store) ReshardElectionPrefix() string { return s.root + "/reshard/leader" }
func (s *Store) workflowKey(ks, name string) string {
	return s.workflowsDir() + ks + "/" + name
}

func (w *Workflow) validate() error {
	if err := checkName("keyspace", w.Keyspace); err != nil {
		return err
	}
	if err := checkName("workflow", w.Name); err != nil {
		return err
	}
	if w.Kind != WorkflowReshard && w.Kind != WorkflowMoveTables {
		return fmt.Errorf("workflow %s/%s: kind %q: want reshard or movetables: %w", w.Keyspace, w.Name, w.Kind, ErrInvalid)
	}
	if !slices.Contains(WorkflowStates(), w.State) {
		return fmt.Errorf("workflow %s/%s: state %q: %w", w.Keyspace, w.Name, w.State, ErrInvalid)
	}
	if w.Kind == WorkflowMoveTables {
		mt := w.MoveTables
		if mt == nil || len(mt.Tables) == 0 || (mt.SourceKeyspace == "") == (mt.External == nil) {
			return fmt.Errorf("workflow %s/%s: a movetables workflow needs tables and either a source keyspace or an external source: %w", w.Keyspace, w.Name, ErrInvalid)
		}
	}
	for _, sh := range append(slices.Clone(w.SourceShards), w.TargetShards...) {
		if _, err := shardKeyRange(sh); err != nil {
			return fmt.Errorf("workflow %s/%s: %w", w.Keyspace, w.Name, err)
		}
	}
	return nil
}

// CreateWorkflow records a new workflow of an existing keyspace: ErrNoNode
// if the keyspace doesn't exist, ErrNodeExists if a workflow of that name
// does. Created and Updated are set to now.
func (s *Store) CreateWorkflow(ctx context.Context, w *Workflow) error {
	if err := w.validate(); err != nil {
		return err
	}
	what := fmt.Sprintf("workflow %s/%s", w.Keyspace, w.Name)
	n := *w
	n.Created = time.Now().UTC()
	n.Updated = n.Created
	data, err := json.Marshal(&n)
	if err != nil {
		return fmt.Errorf("topo: encode %s: %w", what, err)
	}
	key, ksKey := s.workflowKey(w.Keyspace, w.Name), s.keyspaceKey(w.Keyspace)
	resp, err := s.cli.Txn(ctx).
		If(absent(key), present(ksKey)).
		Then(clientv3.OpPut(key, string(data))).
		Else(clientv3.OpGet(key, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return fmt.Errorf("topo: create %s: %w", what, err)
	}
	if !resp.Succeeded {
		if resp.Responses[0].GetResponseRange().Count > 0 {
			return fmt.Errorf("%s: %w", what, ErrNodeExists)
		}
		return fmt.Errorf("create %s: keyspace %q: %w", what, w.Keyspace, ErrNoNode)
	}
	w.Created, w.Updated = n.Created, n.Updated
	return nil
}

// GetWorkflow returns a workflow; ErrNoNode if it doesn't exist.
func (s *Store) GetWorkflow(ctx context.Context, keyspace, name string) (*Workflow, error) {
	var w Workflow
	if _, err := s.get(ctx, s.workflowKey(keyspace, name), fmt.Sprintf("workflow %s/%s", keyspace, name), &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// ListWorkflows returns every workflow, ordered by keyspace and name.
func (s *Store) ListWorkflows(ctx context.Context) ([]*Workflow, error) {
	return listJSON[Workflow](ctx, s, s.workflowsDir(), "workflows")
}

// UpdateWorkflow changes a workflow with fn in a compare-and-swap loop: fn
// gets the current workflow and may be called more than once; it may
// return ErrNoUpdateNeeded to write nothing. fn must not change the
// keyspace, name or kind. Updated is set to now.
//
// The write also requires every cmp in guards to hold (e.g. that the
// caller still leads an election); if one doesn't, UpdateWorkflow returns
// an error wrapping ErrBadVersion at once instead of retrying.
func (s *Store) UpdateWorkflow(ctx context.Context, keyspace, name string, fn func(*Workflow) error, guards ...clientv3.Cmp) error {
	what := fmt.Sprintf("workflow %s/%s", keyspace, name)
	key := s.workflowKey(keyspace, name)
	return retry(ctx, "update "+what, func() (bool, error) {
		data, rev, err := s.getRaw(ctx, key, what)
		if err != nil {
			return false, err
		}
		var old, w Workflow
		if err := json.Unmarshal(data, &old); err != nil {
			return false, fmt.Errorf("topo: decode %s: %w", what, err)
		}
		if err := json.Unmarshal(data, &w); err != nil {
			return false, fmt.Errorf("topo: decode %s: %w", what, err)
		}
		if err := fn(&w); err != nil {
			if errors.Is(err, ErrNoUpdateNeeded) {
				return true, nil
			}
			return false, err
		}
		if w.Keyspace != old.Keyspace || w.Name != old.Name || w.Kind != old.Kind {
			return false, fmt.Errorf("update %s: the keyspace, name and kind can't change: %w", what, ErrInvalid)
		}
		if err := w.validate(); err != nil {
			return false, err
		}
		w.Updated = time.Now().UTC()
		data, err = json.Marshal(&w)
		if err != nil {
			return false, fmt.Errorf("topo: encode %s: %w", what, err)
		}
		conds := append([]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", rev)}, guards...)
		resp, err := s.cli.Txn(ctx).
			If(conds...).
			Then(clientv3.OpPut(key, string(data))).
			Else(clientv3.OpGet(key, clientv3.WithCountOnly())).
			Commit()
		if err != nil {
			return false, fmt.Errorf("topo: update %s: %w", what, err)
		}
		if !resp.Succeeded && len(guards) > 0 {
			// Lost the race, or a guard failed: tell them apart by
			// re-checking the revision.
			if r := resp.Responses[0].GetResponseRange(); r.Count > 0 {
				cur, err := s.cli.Get(ctx, key)
				if err == nil && len(cur.Kvs) > 0 && cur.Kvs[0].ModRevision == rev {
					return false, fmt.Errorf("update %s: a guard no longer holds: %w", what, ErrBadVersion)
				}
			}
		}
		return resp.Succeeded, nil
	})
}

// DeleteWorkflow removes a workflow; ErrNoNode if it doesn't exist.
func (s *Store) DeleteWorkflow(ctx context.Context, keyspace, name string) error {
	resp, err := s.cli.Delete(ctx, s.workflowKey(keyspace, name))
	if err != nil {
		return fmt.Errorf("topo: delete workflow %s/%s: %w", keyspace, name, err)
	}
	if resp.Deleted == 0 {
		return fmt.Errorf("workflow %s/%s: %w", keyspace, name, ErrNoNode)
	}
	return nil
}
