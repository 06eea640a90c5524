package reshard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/topo"
)

// vdiffHold is the catch-up's side of a vdiff (topo.VDiffRequest), called
// between source transactions: while a vdiff asks for a pause it waits
// here, after writing its position to every target and acknowledging;
// once the vdiff names a position to stop at, it returns to apply
// transactions up to there, then waits again until the request is gone.
func (c *catchup) vdiffHold(ctx context.Context) error {
	if c.reverse {
		return nil // vdiff runs before writes are switched
	}
	acked := ""
	for {
		req := c.activeRequest()
		if req == nil {
			return nil
		}
		var ackField string
		if stop := req.StopAt[c.source]; stop == "" {
			ackField = "paused"
		} else {
			at, err := parsePosition(stop)
			if err != nil {
				return permanent(fmt.Errorf("vdiff stop position: %w", err))
			}
			if !c.pos.covers(at) {
				return nil // not there yet: apply on
			}
			ackField = "reached"
		}
		if acked != req.ID+ackField {
			if err := c.flush(ctx); err != nil {
				return err
			}
			if err := c.ackVDiff(ctx, req.ID, ackField); err != nil {
				return err
			}
			acked = req.ID + ackField
			c.r.cfg.Logger.Info("reshard: catch-up held for vdiff", append(c.log(), "as", ackField, "position", c.pos.String())...)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		c.lastPoll = time.Time{}
		if err := c.poll(ctx); err != nil {
			return err
		}
	}
}

// activeRequest is the workflow's vdiff request, unless it is stale.
func (c *catchup) activeRequest() *topo.VDiffRequest {
	if c.latest == nil || c.latest.VDiff == nil {
		return nil
	}
	if req := c.latest.VDiff; time.Since(req.Requested) < vdiffRequestTTL {
		return req
	}
	return nil
}

// ackVDiff records in the request that this source's catch-up is held at
// c.pos: field is "paused" or "reached".
func (c *catchup) ackVDiff(ctx context.Context, id, field string) error {
	at := c.pos.String()
	err := c.r.cfg.Store.UpdateWorkflow(ctx, c.wf.Keyspace, c.wf.Name, func(w *topo.Workflow) error {
		if !catchesUp(w.State) {
			return errNotCatchingUp
		}
		if w.VDiff == nil || w.VDiff.ID != id {
			return topo.ErrNoUpdateNeeded
		}
		m := &w.VDiff.Paused
		if field == "reached" {
			m = &w.VDiff.Reached
		}
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[c.source] = at
		return nil
	}, c.guard)
	if errors.Is(err, topo.ErrBadVersion) {
		return fmt.Errorf("%w: %v", ErrNotLeader, err)
	}
	return err
}
