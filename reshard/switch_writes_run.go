package reshard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// switcher carries out one write switch (switch_writes.go).
type switcher struct {
	r     *Runner
	guard clientv3.Cmp
	sides switchSides
	ws    *topo.WriteSwitch

	// conns are connections to the primaries of the from and to shards,
	// by shard name, opened by dial.
	from, to map[string]*tablet.Conn
	fromAddr map[string]string // the from primaries' addresses, by shard
	held     bool              // the hold is placed (and not released)
	flipped  bool
	// steps are how long each step took, for the log.
	steps []any
}

// step records that the step named what ended now.
func (sw *switcher) step(what string, since *time.Time) {
	now := time.Now()
	sw.steps = append(sw.steps, what, now.Sub(*since).Round(time.Millisecond))
	*since = now
}

func (sw *switcher) log() []any {
	return []any{"workflow", sw.sides.keyspace + "/" + sw.sides.workflow, "switch", sw.ws.ID, "direction", sw.ws.Direction}
}

func (sw *switcher) close() {
	for _, m := range []map[string]*tablet.Conn{sw.from, sw.to} {
		for _, c := range m {
			c.Close()
		}
	}
}

// dial connects to the primaries of both sides.
func (sw *switcher) dial(ctx context.Context) error {
	if sw.from != nil {
		return nil
	}
	snap, err := sw.r.cfg.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	wc := &workflowCopy{r: sw.r, wf: &topo.Workflow{Keyspace: sw.sides.keyspace, TargetShards: sw.sides.to}, sources: map[string]string{}}
	if err := wc.resolve(snap, sw.sides.from); err != nil {
		return err
	}
	sw.from, sw.to, sw.fromAddr = map[string]*tablet.Conn{}, map[string]*tablet.Conn{}, wc.sources
	open := func(m map[string]*tablet.Conn, shard, addr string) error {
		cc := sw.r.cfg.Conn
		cc.Addr, cc.DB = addr, sw.sides.keyspace
		c, err := tablet.Dial(ctx, cc)
		if err != nil {
			return fmt.Errorf("shard %s/%s primary %s: %w", sw.sides.keyspace, shard, addr, err)
		}
		m[shard] = c
		return nil
	}
	for shard, addr := range wc.sources {
		if err := open(sw.from, shard, addr); err != nil {
			return err
		}
	}
	for _, t := range wc.targets {
		if err := open(sw.to, t.name, t.addr); err != nil {
			return err
		}
	}
	return nil
}

// update changes the workflow's record of this switch with fn, guarded by
// the leadership; ErrNotLeader if it was lost.
func (sw *switcher) update(ctx context.Context, fn func(w *topo.Workflow, ws *topo.WriteSwitch) error) error {
	err := sw.r.cfg.Store.UpdateWorkflow(ctx, sw.sides.keyspace, sw.sides.workflow, func(w *topo.Workflow) error {
		if w.WriteSwitch == nil || w.WriteSwitch.ID != sw.ws.ID {
			return fmt.Errorf("write switch %s is no longer the workflow's: %w", sw.ws.ID, ErrInvalid)
		}
		return fn(w, w.WriteSwitch)
	}, sw.guard)
	if errors.Is(err, topo.ErrBadVersion) {
		return fmt.Errorf("%w: %v", ErrNotLeader, err)
	}
	return err
}

// run is the switch from phase requested to done.
func (sw *switcher) run(ctx context.Context) error {
	sides, timeout := sw.sides, sw.ws.Timeout
	if timeout <= 0 {
		timeout = DefaultSwitchTimeout
	}
	if err := sw.dial(ctx); err != nil {
		return err
	}
	// The position table the stream the other way will use, created
	// before the hold so that its DDL is not part of the stall, from a
	// connection without a default database: the binlog then files the
	// DDL under no schema, and the catch-up reading it doesn't take it for
	// DDL of the keyspace (which stops a workflow).
	for shard, addr := range sw.fromAddr {
		if err := sw.ensurePositions(ctx, addr); err != nil {
			return fmt.Errorf("shard %s/%s: %w", sides.keyspace, shard, err)
		}
	}
	placed := time.Now().UTC()
	hold := &topo.Hold{
		ID: sw.ws.ID, Keyspace: sides.keyspace, Shards: sides.from, Reroute: true,
		Reason:   fmt.Sprintf("resharding write switch %s (%s): %v -> %v", sides.workflow, sw.ws.Direction, sides.from, sides.to),
		Deadline: placed.Add(timeout),
		Drain:    min(2*time.Second, timeout/4),
	}
	// Recorded before the hold exists, so a controller taking over knows
	// to undo whatever of the following steps happened.
	if err := sw.update(ctx, func(_ *topo.Workflow, ws *topo.WriteSwitch) error {
		if ws.Phase != topo.SwitchRequested {
			return fmt.Errorf("write switch %s is in phase %s: %w", ws.ID, ws.Phase, errSwitchTaken)
		}
		ws.Phase, ws.HoldPlaced, ws.HoldDeadline = topo.SwitchHolding, placed, hold.Deadline
		return nil
	}); err != nil {
		return err
	}
	sw.ws.HoldPlaced = placed
	if err := sw.r.cfg.Store.PlaceHold(ctx, hold); err != nil {
		return err
	}
	sw.held = true
	sw.r.cfg.Logger.Info("reshard: write switch: hold placed", append(sw.log(), "shards", sides.from)...)

	// 1. Every live gateway holds.
	actx, cancel := context.WithTimeout(ctx, timeout/2)
	acked, err := sw.r.cfg.Store.AwaitAcks(actx, hold)
	cancel()
	if err != nil {
		return err
	}
	sw.r.cfg.Logger.Info("reshard: write switch: gateways hold the keyspace", append(sw.log(), "acked", acked)...)
	mark := placed
	sw.step("acks", &mark)
	bound, cancel := context.WithDeadline(ctx, hold.Deadline.Add(-switchMargin))
	defer cancel()

	// 2. The from side read-only, its clients cut.
	for shard, c := range sw.from {
		if err := tablet.SetReadOnly(bound, c, true); err != nil {
			return fmt.Errorf("shard %s/%s: make the primary read-only: %w", sides.keyspace, shard, err)
		}
		n, err := killClients(bound, c)
		if err != nil {
			return fmt.Errorf("shard %s/%s: cut client connections: %w", sides.keyspace, shard, err)
		}
		if n > 0 {
			sw.r.cfg.Logger.Warn("reshard: write switch: cut client connections left on a primary", append(sw.log(), "shard", shard, "connections", n)...)
		}
	}
	sw.step("read_only", &mark)
	// 3. No prepared 2PC branch left.
	for shard, c := range sw.from {
		if err := waitNoPreparedXA(bound, c); err != nil {
			return fmt.Errorf("shard %s/%s: %w", sides.keyspace, shard, err)
		}
	}
	sw.step("xa", &mark)
	// 4. Final positions, applied on the to side.
	final := map[string]string{}
	for shard, c := range sw.from {
		pos, err := binlogPos(bound, c)
		if err != nil {
			return fmt.Errorf("shard %s/%s: %w", sides.keyspace, shard, err)
		}
		final[shard] = pos
	}
	if err := sw.waitApplied(bound, final); err != nil {
		return err
	}
	sw.step("catchup", &mark)
	// 5. Where the stream the other way starts.
	start := map[string]string{}
	for shard, c := range sw.to {
		pos, err := binlogPos(bound, c)
		if err != nil {
			return fmt.Errorf("shard %s/%s: %w", sides.keyspace, shard, err)
		}
		start[shard] = pos
	}
	if err := sw.storeStarts(bound, start); err != nil {
		return err
	}
	// The to side takes writes (reverse: the sources were read-only).
	for shard, c := range sw.to {
		if err := tablet.SetReadOnly(bound, c, false); err != nil {
			return fmt.Errorf("shard %s/%s: make the primary writable: %w", sides.keyspace, shard, err)
		}
	}
	if err := bound.Err(); err != nil {
		return fmt.Errorf("the switch ran out of time before the flip (timeout %s): %w", timeout, err)
	}

	sw.step("positions", &mark)
	// 6. The flip.
	err = sw.r.cfg.Store.FlipServing(ctx, sides.keyspace, sides.workflow, sides.from, sides.to, func(w *topo.Workflow) error {
		ws := w.WriteSwitch
		if ws == nil || ws.ID != sw.ws.ID || ws.Phase != topo.SwitchHolding {
			return fmt.Errorf("write switch %s is no longer in phase holding: %w", sw.ws.ID, ErrInvalid)
		}
		ws.Phase, ws.FinalPositions, ws.StartPositions = topo.SwitchFlipped, final, start
		w.State = sides.stateAfter()
		w.ReadPer10000 = 0
		if sides.dir == topo.SwitchForward {
			w.ReadPer10000 = topo.ReadSwitchScale
		}
		return nil
	}, sw.guard)
	if err != nil {
		// The transaction may have been applied with its answer lost.
		if cur, gerr := sw.r.cfg.Store.GetWorkflow(context.WithoutCancel(ctx), sides.keyspace, sides.workflow); gerr == nil &&
			cur.WriteSwitch != nil && cur.WriteSwitch.ID == sw.ws.ID && cur.WriteSwitch.Phase == topo.SwitchFlipped {
			err = nil
		}
	}
	if err != nil {
		if errors.Is(err, topo.ErrBadVersion) {
			return fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		return fmt.Errorf("flip the serving graph: %w", err)
	}
	sw.flipped = true
	sw.step("flip", &mark)
	sw.r.cfg.Logger.Info("reshard: write switch: serving graph flipped", append(sw.log(), "serving", sides.to)...)
	// 7. Release.
	return sw.finish(ctx)
}

// finish releases the hold of a flipped switch and records it done.
func (sw *switcher) finish(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if err := sw.r.cfg.Store.ReleaseHold(ctx, sw.ws.ID); err != nil {
		return err
	}
	sw.held = false
	stall := time.Since(sw.ws.HoldPlaced)
	if sw.ws.HoldPlaced.IsZero() {
		stall = 0
	}
	// A controller finishing a dead one's switch makes sure of the
	// read-only flags it may not have reached.
	if err := sw.dial(ctx); err == nil {
		for shard, c := range sw.from {
			if err := tablet.SetReadOnly(ctx, c, true); err != nil {
				sw.r.cfg.Logger.Error("reshard: write switch: from primary not read-only", append(sw.log(), "shard", shard, "err", err)...)
			}
		}
	}
	err := sw.update(ctx, func(w *topo.Workflow, ws *topo.WriteSwitch) error {
		if ws.Phase != topo.SwitchFlipped {
			return topo.ErrNoUpdateNeeded
		}
		ws.Phase, ws.Stall, ws.Finished = topo.SwitchDone, stall, time.Now().UTC()
		w.LastWriteStall = stall
		w.MaxWriteStall = max(w.MaxWriteStall, stall)
		w.Error = ""
		return nil
	})
	if err != nil {
		return err
	}
	sw.r.cfg.Logger.Info("reshard: write switch done", append(append(sw.log(), "stall", stall), sw.steps...)...)
	return nil
}

// fail undoes a switch that did not flip and records why: the from side
// writable again (and, for a reverse, the sources read-only again), the
// hold released, the phase failed; the workflow's state stays.
func (sw *switcher) fail(ctx context.Context, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	// Undo only what is still this switch's, before its flip.
	cur, err := sw.r.cfg.Store.GetWorkflow(ctx, sw.sides.keyspace, sw.sides.workflow)
	if err != nil {
		return err
	}
	if ws := cur.WriteSwitch; ws == nil || ws.ID != sw.ws.ID || ws.Over() || ws.Phase == topo.SwitchFlipped {
		return nil
	}
	sw.r.cfg.Logger.Warn("reshard: write switch failed; undoing it", append(sw.log(), "err", cause)...)
	var errs []error
	if err := sw.dial(ctx); err != nil {
		errs = append(errs, fmt.Errorf("undo: %w", err))
	} else {
		for shard, c := range sw.from {
			if err := tablet.SetReadOnly(ctx, c, false); err != nil {
				errs = append(errs, fmt.Errorf("undo: shard %s/%s stays read-only: %w", sw.sides.keyspace, shard, err))
			}
		}
		if sw.sides.dir == topo.SwitchReverse {
			for shard, c := range sw.to {
				if err := tablet.SetReadOnly(ctx, c, true); err != nil {
					errs = append(errs, fmt.Errorf("undo: shard %s/%s stays writable: %w", sw.sides.keyspace, shard, err))
				}
			}
		}
	}
	if err := sw.r.cfg.Store.ReleaseHold(ctx, sw.ws.ID); err != nil {
		errs = append(errs, fmt.Errorf("undo: release the hold (gateways stop holding at its deadline): %w", err))
	}
	sw.held = false
	msg := errors.Join(append([]error{cause}, errs...)...).Error()
	return sw.update(ctx, func(w *topo.Workflow, ws *topo.WriteSwitch) error {
		if ws.Phase == topo.SwitchFlipped || ws.Phase == topo.SwitchDone {
			return topo.ErrNoUpdateNeeded
		}
		ws.Phase, ws.Error, ws.Finished = topo.SwitchFailed, msg, time.Now().UTC()
		w.Error = fmt.Sprintf("write switch %s failed: %s", ws.ID, msg)
		return nil
	})
}

// ensurePositions creates the position table on the instance at addr,
// through a connection without a default database.
func (sw *switcher) ensurePositions(ctx context.Context, addr string) error {
	cc := sw.r.cfg.Conn
	cc.Addr, cc.DB = addr, ""
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close()
	return ensurePositionTable(ctx, conn)
}

// storeStarts writes, on every from primary (in parallel), the position
// each to shard's stream the other way starts from.
func (sw *switcher) storeStarts(ctx context.Context, start map[string]string) error {
	stmt, err := positionsStatement(sw.sides.keyspace, sw.sides.outbound(), start)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for shard, c := range sw.from {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Execute(ctx, stmt); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("shard %s/%s: store the positions the other way starts from: %w", sw.sides.keyspace, shard, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// positionsStatement records, in one statement, positions (by source
// shard) as both applied and restart positions of a stream.
func positionsStatement(keyspace, workflow string, positions map[string]string) (string, error) {
	var rows []string
	for _, shard := range slices.Sorted(maps.Keys(positions)) {
		p, err := parsePosition(positions[shard])
		if err != nil {
			return "", fmt.Errorf("shard %s position: %w", shard, err)
		}
		q := positionStatement(keyspace, workflow, shard, p, p)
		rows = append(rows, q[strings.Index(q, " VALUES ")+len(" VALUES "):])
	}
	return "REPLACE INTO " + positionTable + " VALUES " + strings.Join(rows, ","), nil
}

// waitApplied waits until every to primary has applied, for each from
// shard, the catch-up's transactions up to its final position.
func (sw *switcher) waitApplied(ctx context.Context, final map[string]string) error {
	want := map[string]position{}
	for shard, pos := range final {
		p, err := parsePosition(pos)
		if err != nil {
			return err
		}
		want[shard] = p
	}
	pending := maps.Clone(sw.to)
	for {
		for shard, c := range pending {
			done := true
			for from, p := range want {
				applied, _, ok, err := readPositions(ctx, c, sw.sides.keyspace, sw.sides.inbound(), from)
				if err != nil {
					return fmt.Errorf("shard %s/%s: %w", sw.sides.keyspace, shard, err)
				}
				if !ok || !applied.covers(p) {
					done = false
					break
				}
			}
			if done {
				delete(pending, shard)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("catch-up did not reach the final positions %v in time: %w", final, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// killClients kills every connection on the instance but conn's own,
// replication's (binlog dumps, catch-up's streams included) and the
// server's threads; it returns how many.
func killClients(ctx context.Context, conn *tablet.Conn) (int, error) {
	res, err := conn.Execute(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()"+
		" AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker')"+
		" AND USER NOT IN ('system user', 'event_scheduler')")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range res.Rows {
		id := string(row[0])
		if strings.Trim(id, "0123456789") != "" || id == "" {
			continue
		}
		// One that ended meanwhile answers "unknown thread": fine.
		if _, err := conn.Execute(ctx, "KILL CONNECTION "+id); err == nil {
			n++
		}
	}
	return n, nil
}

// waitNoPreparedXA waits until the instance lists no prepared XA
// transaction: every 2PC branch there is committed or rolled back (the
// 2PC resolver finishes those whose gateway is gone).
func waitNoPreparedXA(ctx context.Context, conn *tablet.Conn) error {
	for {
		res, err := conn.Execute(ctx, "XA RECOVER")
		if err != nil {
			return fmt.Errorf("XA RECOVER: %w", err)
		}
		if len(res.Rows) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d prepared XA transactions still there: %w", len(res.Rows), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// binlogPos is @@global.gtid_binlog_pos.
func binlogPos(ctx context.Context, conn *tablet.Conn) (string, error) {
	res, err := conn.Execute(ctx, "SELECT @@global.gtid_binlog_pos")
	if err != nil {
		return "", fmt.Errorf("gtid_binlog_pos: %w", err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return "", fmt.Errorf("gtid_binlog_pos: got %d rows", len(res.Rows))
	}
	return string(res.Rows[0][0]), nil
}
