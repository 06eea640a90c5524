package reshard

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/topo"
)

// The write switch (`switch-traffic --writes`, `reverse-traffic`): shardctl
// records a request in the workflow (RequestWriteSwitch) and waits
// (AwaitWriteSwitch); the leading controller carries it out
// (Runner.writeSwitch), so a CLI that dies loses nothing. Both directions
// are one procedure over a switchSides: the shards that stop serving
// ("from") and those that start ("to").
//
//  1. phase holding is recorded, then a hold (topo.Hold, Reroute) is placed
//     on the from shards: every gateway holds the keyspace's statements
//     before they pick shards, drains those in flight on the from
//     shards, and acknowledges; every live gateway must acknowledge
//     within half the timeout, else the switch aborts;
//  2. the from primaries are set read-only and their client connections
//     cut (a transaction a gateway could not drain fails instead of
//     committing after the position is read);
//  3. prepared XA (2PC) branches on them are waited for (XA RECOVER
//     empty: the resolver finishes orphans);
//  4. their @@gtid_binlog_pos is read, and the catch-up into the to
//     shards must apply up to it (their position rows);
//  5. the to primaries' @@gtid_binlog_pos is stored on the from primaries
//     as where the stream the other way starts;
//  6. the flip (topo.FlipServing): serving flags, serving graph and the
//     workflow's state and phase flipped in one etcd transaction;
//  7. the hold is released: the held statements resolve their shards
//     again and go to the to shards. The stall (hold placed → released)
//     is recorded.
//
// Any failure before the flip undoes what was done: the from primaries
// writable again, the hold released, the phase failed with the error,
// the workflow's state unchanged. A controller that dies mid-switch
// leaves the phase: a new leader rolls a switch in phase holding back as
// above (the hold may have expired meanwhile: writes went to the from
// shards, which is still where the graph points), and finishes one in
// phase flipped (the graph already points at the to shards).

// DefaultSwitchTimeout bounds a write switch when the request names none.
const DefaultSwitchTimeout = 10 * time.Second

// switchMargin is kept between the last step before the flip and the
// hold's deadline: past the deadline gateways stop holding.
const switchMargin = time.Second

// switchSides is what a write switch moves, for either direction.
type switchSides struct {
	keyspace, workflow string
	from, to           []string
	dir                topo.SwitchDirection
}

// sidesOf is the switch's sides for w.
func sidesOf(w *topo.Workflow, dir topo.SwitchDirection) switchSides {
	s := switchSides{keyspace: w.Keyspace, workflow: w.Name, from: w.SourceShards, to: w.TargetShards, dir: dir}
	if dir == topo.SwitchReverse {
		s.from, s.to = w.TargetShards, w.SourceShards
	}
	return s
}

// inbound is the position-table name of the catch-up into the to shards
// (from → to), which must reach the from shards' final positions.
func (s switchSides) inbound() string { return positionName(s.workflow, s.dir == topo.SwitchReverse) }

// outbound is that of the stream the other way (to → from), which starts
// at the flip.
func (s switchSides) outbound() string { return positionName(s.workflow, s.dir == topo.SwitchForward) }

// stateAfter is the workflow's state once the switch is done.
func (s switchSides) stateAfter() topo.WorkflowState {
	if s.dir == topo.SwitchForward {
		return topo.WorkflowWritesSwitched
	}
	return topo.WorkflowRunning
}

// canSwitchWrites says whether w can have a write switch in direction dir.
func canSwitchWrites(w *topo.Workflow, dir topo.SwitchDirection) error {
	if w.Kind != topo.WorkflowReshard {
		return fmt.Errorf("workflow %s/%s is a %s: only reshard workflows switch writes yet: %w", w.Keyspace, w.Name, w.Kind, ErrInvalid)
	}
	if !w.WriteSwitch.Over() {
		return fmt.Errorf("workflow %s/%s: a write switch (%s) is under way: %w", w.Keyspace, w.Name, w.WriteSwitch.ID, ErrInvalid)
	}
	switch dir {
	case topo.SwitchForward:
		if w.State != topo.WorkflowRunning && w.State != topo.WorkflowReadsSwitched {
			return fmt.Errorf("workflow %s/%s is in state %s: writes switch in state running or reads-switched: %w", w.Keyspace, w.Name, w.State, ErrInvalid)
		}
	case topo.SwitchReverse:
		if w.State != topo.WorkflowWritesSwitched {
			return fmt.Errorf("workflow %s/%s is in state %s: reverse-traffic works in state writes-switched: %w", w.Keyspace, w.Name, w.State, ErrInvalid)
		}
	default:
		return fmt.Errorf("write switch direction %q: %w", dir, ErrInvalid)
	}
	return nil
}

// RequestWriteSwitch records a write switch for the controller to carry
// out and returns it; timeout 0 is DefaultSwitchTimeout. It refuses,
// with ErrInvalid, a workflow not in a state the direction switches from
// or with a switch under way.
func RequestWriteSwitch(ctx context.Context, store *topo.Store, keyspace, workflow string, dir topo.SwitchDirection, timeout time.Duration) (*topo.WriteSwitch, error) {
	if timeout <= 0 {
		timeout = DefaultSwitchTimeout
	}
	if timeout < 2*switchMargin {
		return nil, fmt.Errorf("write switch timeout %s: want at least %s: %w", timeout, 2*switchMargin, ErrInvalid)
	}
	now := time.Now().UTC()
	ws := &topo.WriteSwitch{
		ID:        fmt.Sprintf("reshard-%s-%s-%d", keyspace, workflow, now.UnixNano()),
		Direction: dir, Timeout: timeout, Requested: now, Phase: topo.SwitchRequested,
	}
	err := store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		if err := canSwitchWrites(w, dir); err != nil {
			return err
		}
		w.WriteSwitch = ws
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ws, nil
}

// ErrSwitchFailed: the controller tried the write switch and gave up;
// the writes stay where they were.
var ErrSwitchFailed = errors.New("reshard: write switch failed")

// AwaitWriteSwitch waits until the controller has carried out the
// switch id and returns the workflow then. If it failed, the error wraps
// ErrSwitchFailed with the controller's reason. If no controller picks
// the request up within pickup, the request is withdrawn and an error
// says so.
func AwaitWriteSwitch(ctx context.Context, store *topo.Store, keyspace, workflow, id string, pickup time.Duration) (*topo.Workflow, error) {
	for {
		w, err := store.GetWorkflow(ctx, keyspace, workflow)
		if err != nil {
			return nil, err
		}
		ws := w.WriteSwitch
		switch {
		case ws == nil || ws.ID != id:
			return nil, fmt.Errorf("write switch %s was replaced by another request", id)
		case ws.Phase == topo.SwitchDone:
			return w, nil
		case ws.Phase == topo.SwitchFailed:
			return w, fmt.Errorf("%w: %s", ErrSwitchFailed, ws.Error)
		case ws.Phase == topo.SwitchRequested && time.Since(ws.Requested) > pickup:
			werr := store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
				if w.WriteSwitch == nil || w.WriteSwitch.ID != id || w.WriteSwitch.Phase != topo.SwitchRequested {
					return topo.ErrNoUpdateNeeded // picked up meanwhile
				}
				w.WriteSwitch.Phase = topo.SwitchFailed
				w.WriteSwitch.Error = fmt.Sprintf("no controller picked the request up in %s", pickup)
				w.WriteSwitch.Finished = time.Now().UTC()
				return nil
			})
			if werr != nil {
				return nil, werr
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for write switch %s (phase %s): %w", id, ws.Phase, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeSwitch carries w's write switch forward from its recorded phase.
// It returns an error only when it could not record the outcome.
func (r *Runner) writeSwitch(ctx context.Context, listed *topo.Workflow, guard clientv3.Cmp, running *catchups) error {
	// The pass's list may be older than a switch that just ended: act on
	// the record as it is now.
	w, err := r.cfg.Store.GetWorkflow(ctx, listed.Keyspace, listed.Name)
	if err != nil {
		return err
	}
	ws := w.WriteSwitch
	if ws.Over() {
		return nil
	}
	sides := sidesOf(w, ws.Direction)
	sw := &switcher{r: r, guard: guard, sides: sides, ws: ws}
	defer sw.close()
	switch ws.Phase {
	case topo.SwitchHolding:
		// A controller died mid-switch before the flip: roll back.
		r.cfg.Logger.Warn("reshard: write switch found before its flip; rolling it back", "workflow", w.Keyspace+"/"+w.Name, "switch", ws.ID)
		return sw.fail(ctx, errors.New("the controller running the switch stopped before the flip; rolled back"))
	case topo.SwitchFlipped:
		r.cfg.Logger.Warn("reshard: write switch found after its flip; finishing it", "workflow", w.Keyspace+"/"+w.Name, "switch", ws.ID)
		return sw.finish(ctx)
	case topo.SwitchRequested:
	default:
		return nil
	}
	if err := canSwitchWrites(withSwitchOver(w), ws.Direction); err != nil {
		return sw.fail(ctx, err)
	}
	if err := sw.run(ctx); err != nil {
		if errors.Is(err, ErrNotLeader) || errors.Is(err, errSwitchTaken) {
			return err // the next leader rolls back or finishes; or another goroutine had it
		}
		if sw.flipped {
			r.cfg.Logger.Error("reshard: write switch flipped but not finished; the next pass finishes it", "switch", ws.ID, "err", err)
			return err
		}
		return sw.fail(ctx, err)
	}
	if ws.Direction == topo.SwitchForward {
		// Reverse replication starts now rather than at the next pass.
		if cur, err := r.cfg.Store.GetWorkflow(ctx, w.Keyspace, w.Name); err == nil && cur.State == topo.WorkflowWritesSwitched {
			r.startReverse(ctx, cur, guard, running)
		}
	}
	return nil
}

// errSwitchTaken: the switch left phase requested before this attempt
// could take it; whoever took it carries it on.
var errSwitchTaken = errors.New("reshard: the write switch was taken up already")

// withSwitchOver is w as if its switch were over, for the state checks.
func withSwitchOver(w *topo.Workflow) *topo.Workflow {
	c := *w
	c.WriteSwitch = nil
	return &c
}
