package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// failoverSlack bounds a failover's steps other than the relay-log wait
// (and a fencing as a whole).
const failoverSlack = 30 * time.Second

// candidate is a replica that could be promoted.
type candidate struct {
	tablet *topo.Tablet
	conn   *tablet.Conn
	// received is what its relay log holds (Gtid_IO_Pos), "" if it is not
	// replicating (a replica promoted by a failover that did not finish).
	received string
	pos      Position
}

// failover replaces the dead primary of a shard (see the package comment
// for the steps). retry > 0 asks the detector to try again after that
// long (the failover failed, or was damped); 0 means the shard needs
// nothing more (done, or someone else did it).
//
// An emergency reparent (em not nil) runs it now: the old primary is not
// probed (it is presumed dead, and fenced read-only if it answers), the
// damping window is ignored, and em.want, if set, is promoted provided it
// is the most advanced replica.
func (c *Controller) failover(ctx context.Context, key shardKey, f *failing, em *emergency) (retry time.Duration, err error) {
	// Bounded as a whole, so that an instance that hangs mid-way can't stall
	// the controller: the relay-log wait, plus time for the rest.
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CatchUpTimeout+failoverSlack)
	defer cancel()
	unlock, err := c.lockShard(ctx, key.keyspace, key.shard)
	if err != nil {
		return c.cfg.CheckInterval, err
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if uerr := unlock(uctx); uerr != nil {
			c.log.Warn("failover: unlock shard", "shard", key, "err", uerr)
		}
	}()
	start := time.Now()

	// 1. Look again, under the lock.
	snap, err := c.cfg.Store.Snapshot(ctx)
	if err != nil {
		return c.cfg.CheckInterval, err
	}
	sh, tablets := shardTablets(snap, key.keyspace, key.shard)
	if sh == nil || sh.PrimaryAlias == nil || *sh.PrimaryAlias != f.primary {
		c.log.Info("failover: the shard's primary changed meanwhile; nothing to do", "shard", key, "was", f.primary)
		return 0, nil
	}
	old := findTablet(tablets, f.primary)
	if old == nil {
		return 0, nil
	}
	if em != nil {
		c.fenceLive(ctx, old)
	} else if err := c.probe(ctx, old); err == nil {
		c.log.Info("failover: primary answers again; no failover", "shard", key, "primary", old.Alias)
		return 0, nil
	}

	// 2. Damping.
	last, err := lastRecovery(ctx, c.cfg.Store, key.keyspace, key.shard)
	if em != nil {
		last = nil
	}
	if err != nil {
		return c.cfg.CheckInterval, err
	}
	if last != nil {
		if wait := c.cfg.DampWindow - time.Since(last.Time); wait > 0 {
			c.log.Error("failover: shard failed over recently; not failing over again within the damping window",
				"shard", key, "primary", old.Alias, "last", last.Time, "damp_window", c.cfg.DampWindow)
			return wait, nil
		}
	}

	// 3. The most advanced reachable replica.
	cands := c.candidates(ctx, tablets)
	defer func() {
		for _, cd := range cands {
			cd.conn.Close()
		}
	}()
	want, ignore := "", []string(nil)
	if em != nil {
		want, ignore = em.want, em.ignore
	}
	if silent := silentReplicas(tablets, cands, ignore); len(silent) > 0 {
		return c.cfg.DetectAfter, fmt.Errorf("failover: %s: not promoting while replica %s does not answer: "+
			"semi-sync acknowledges a commit once one replica has it, so that replica may hold an acknowledged write the others lack; "+
			"waiting for it (`shardctl reparent emergency --ignore-replicas` goes on without it, at that risk)",
			key, strings.Join(silent, ", "))
	}
	best, err := chooseReplica(key, cands, want, true)
	if err != nil {
		return c.cfg.DetectAfter, fmt.Errorf("failover: %w", err)
	}
	if em != nil {
		em.promoted = best.tablet.Alias.String()
	}
	c.log.Warn("failover: promoting", "shard", key, "old_primary", old.Alias, "new_primary", best.tablet.Alias,
		"received", best.received, "reason", f.reason)

	// 4. Apply the relay log, then make it writable.
	if best.received != "" {
		wctx, cancel := context.WithTimeout(ctx, c.cfg.CatchUpTimeout)
		err := tablet.WaitForGTID(wctx, best.conn, best.received)
		cancel()
		if err != nil {
			return c.cfg.DetectAfter, fmt.Errorf("failover: %s: %s did not apply its relay log: %w", key, best.tablet.Alias, err)
		}
	}
	if err := tablet.Promote(ctx, best.conn); err != nil {
		return c.cfg.DetectAfter, fmt.Errorf("failover: %s: promote %s: %w", key, best.tablet.Alias, err)
	}
	applied, err := tablet.CurrentPosition(ctx, best.conn)
	if err != nil {
		c.log.Warn("failover: position of the new primary", "shard", key, "err", err)
	}

	// 5. Repoint the other replicas; one that fails is logged, not fatal:
	// it keeps trying its old primary and is fixed by hand or a later
	// reparent.
	src := tablet.ReplicationSource{Addr: best.tablet.Addr(), User: c.cfg.ReplicationUser, Password: c.cfg.ReplicationPassword}
	replicas := 0
	for _, cd := range cands {
		if cd == best {
			continue
		}
		if err := tablet.ReplicateFrom(ctx, cd.conn, src); err != nil {
			c.log.Error("failover: repoint replica", "shard", key, "replica", cd.tablet.Alias, "err", err)
			continue
		}
		replicas++
	}

	// 5b. Its commits wait for a replica's acknowledgement without limit
	// if it has a replica left, and for none if not (the fenced former
	// primary, once it replicates, makes it wait again: fenceTablet).
	if err := tablet.SetSemiSync(ctx, best.conn, replicas > 0); err != nil {
		return c.cfg.DetectAfter, fmt.Errorf("failover: %s: semi-sync of %s: %w", key, best.tablet.Alias, err)
	}
	if replicas == 0 {
		c.log.Warn("failover: the new primary has no replica: its commits wait for none until the former primary is fenced",
			"shard", key, "new_primary", best.tablet.Alias)
	}

	// 6. The topology, in an order that never names two primaries.
	if err := c.switchPrimary(ctx, key, old.Alias, best.tablet.Alias, topo.TabletDrained); err != nil {
		return c.cfg.CheckInterval, err
	}

	// 7. The record.
	rec := &Recovery{
		Time: time.Now().UTC(), Keyspace: key.keyspace, Shard: key.shard,
		OldPrimary: old.Alias.String(), NewPrimary: best.tablet.Alias.String(),
		Reason: f.reason, FailedAt: f.since.UTC(), Duration: time.Since(start), Position: applied,
	}
	if err := Record(ctx, c.cfg.Store, rec); err != nil {
		c.log.Error("failover: record recovery", "shard", key, "err", err)
	}
	c.log.Warn("failover: new primary serving", "shard", key, "old_primary", old.Alias, "new_primary", best.tablet.Alias,
		"since_first_failure", rec.Time.Sub(rec.FailedAt).Round(time.Millisecond), "promotion", rec.Duration.Round(time.Millisecond))
	return 0, nil
}

// candidates logs in to the shard's replicas in parallel and reads their
// positions; unreachable ones are left out. The caller closes the
// connections.
func (c *Controller) candidates(ctx context.Context, tablets []*topo.Tablet) []*candidate {
	var mu sync.Mutex
	var out []*candidate
	var wg sync.WaitGroup
	for _, t := range tablets {
		if t.Type != topo.TabletReplica {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cd, err := c.readCandidate(ctx, t)
			if err != nil {
				c.log.Warn("failover: replica left out", "replica", t.Alias, "err", err)
				return
			}
			mu.Lock()
			out = append(out, cd)
			mu.Unlock()
		}()
	}
	wg.Wait()
	// Deterministic order, so ties go first to a replica that no longer
	// replicates (promoted by a failover a previous leader did not
	// finish: it may have taken writes already), then to the lowest alias.
	sort.Slice(out, func(i, j int) bool {
		if ri, rj := out[i].received == "", out[j].received == ""; ri != rj {
			return ri
		}
		a, b := out[i].tablet.Alias, out[j].tablet.Alias
		return a.Cell < b.Cell || a.Cell == b.Cell && a.UID < b.UID
	})
	return out
}

// silentReplicas are the shard's replicas that are not among the
// candidates read (they did not answer), less those in ignore.
func silentReplicas(tablets []*topo.Tablet, cands []*candidate, ignore []string) []string {
	var out []string
	for _, t := range tablets {
		if t.Type != topo.TabletReplica || slices.Contains(ignore, t.Alias.String()) ||
			slices.ContainsFunc(cands, func(cd *candidate) bool { return cd.tablet.Alias == t.Alias }) {
			continue
		}
		out = append(out, t.Alias.String())
	}
	return out
}

func (c *Controller) readCandidate(ctx context.Context, t *topo.Tablet) (*candidate, error) {
	dctx, cancel := context.WithTimeout(ctx, c.cfg.checkTimeout())
	defer cancel()
	conn, err := c.dial(dctx, t)
	if err != nil {
		return nil, err
	}
	cd := &candidate{tablet: t, conn: conn}
	err = func() error {
		st, err := tablet.ReadReplicaStatus(dctx, conn)
		if err != nil {
			return err
		}
		cur, err := tablet.CurrentPosition(dctx, conn)
		if err != nil {
			return err
		}
		if cd.pos, err = ParsePosition(cur); err != nil {
			return err
		}
		if st != nil && st.ReceivedPos != "" {
			recv, err := ParsePosition(st.ReceivedPos)
			if err != nil {
				return err
			}
			cd.received = st.ReceivedPos
			cd.pos = cd.pos.Merge(recv)
		}
		return nil
	}()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("tablet %s: %w", t.Alias, err)
	}
	return cd, nil
}

// switchPrimary moves the shard's primary from old to new in the
// topology: old's tablet becomes oldType first (drained by a failover, a
// replica after a planned reparent: from then on no gateway writes to
// it), then the shard names new, then new's tablet becomes primary (from
// then on gateways write to it). Between the steps a gateway sees no
// primary and holds writes in its buffer.
func (c *Controller) switchPrimary(ctx context.Context, key shardKey, old, new topo.TabletAlias, oldType topo.TabletType) error {
	st := c.cfg.Store
	setType := func(alias topo.TabletAlias, typ topo.TabletType) error {
		return st.UpdateTablet(ctx, alias, func(t *topo.Tablet) error {
			if t.Type == typ {
				return topo.ErrNoUpdateNeeded
			}
			t.Type = typ
			return nil
		})
	}
	if err := setType(old, oldType); err != nil && !errors.Is(err, topo.ErrNoNode) {
		return fmt.Errorf("failover: %s: drain %s: %w", key, old, err)
	}
	err := st.UpdateShard(ctx, key.keyspace, key.shard, func(s *topo.Shard) error {
		s.PrimaryAlias = &new
		return nil
	})
	if err != nil {
		return fmt.Errorf("failover: %s: name primary %s: %w", key, new, err)
	}
	if err := setType(new, topo.TabletPrimary); err != nil {
		return fmt.Errorf("failover: %s: make %s primary: %w", key, new, err)
	}
	return nil
}
