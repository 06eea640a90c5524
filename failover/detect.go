package failover

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// shardKey names a shard.
type shardKey struct{ keyspace, shard string }

func (k shardKey) String() string { return k.keyspace + "/" + k.shard }

// failing is what the detector knows of a primary that fails its checks.
type failing struct {
	primary topo.TabletAlias
	since   time.Time
	reason  string
	// retryAt holds off another failover attempt (after one failed or was
	// damped) until then.
	retryAt time.Time
}

// detector is the state of one leadership term's check loop. It is used
// by that loop's goroutine only.
type detector struct {
	c       *Controller
	failing map[shardKey]*failing
	// fenceAt holds off fencing a drained tablet again (after an attempt
	// that failed) until then.
	fenceAt map[topo.TabletAlias]time.Time
	// lastRepoint is when the replicas' sources were last checked.
	lastRepoint time.Time
}

func newDetector(c *Controller) *detector {
	return &detector{c: c, failing: map[shardKey]*failing{}, fenceAt: map[topo.TabletAlias]time.Time{}}
}

// check is one primary to check in a pass.
type check struct {
	key     shardKey
	primary *topo.Tablet
	err     error
}

// tick checks every shard's primary once, in parallel, fails over those
// dead for DetectAfter, and fences drained tablets that answer again.
func (d *detector) tick(ctx context.Context) error {
	snap, err := d.c.cfg.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	var checks []*check
	for ks, shards := range snap.Shards {
		for _, sh := range shards {
			if sh.PrimaryAlias == nil {
				continue
			}
			_, tablets := shardTablets(snap, ks, sh.Name)
			if t := findTablet(tablets, *sh.PrimaryAlias); t != nil {
				checks = append(checks, &check{key: shardKey{ks, sh.Name}, primary: t})
			}
		}
	}
	var wg sync.WaitGroup
	for _, ch := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch.err = d.c.probe(ctx, ch.primary)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}

	now := time.Now()
	seen := map[shardKey]bool{}
	for _, ch := range checks {
		seen[ch.key] = true
		f := d.failing[ch.key]
		if ch.err == nil {
			if f != nil {
				d.c.log.Info("failover: primary answers again", "shard", ch.key, "primary", ch.primary.Alias)
				delete(d.failing, ch.key)
			}
			continue
		}
		if f == nil || f.primary != ch.primary.Alias {
			f = &failing{primary: ch.primary.Alias, since: now}
			d.failing[ch.key] = f
			d.c.log.Warn("failover: primary fails its check", "shard", ch.key, "primary", ch.primary.Alias, "err", ch.err)
		}
		f.reason = ch.err.Error()
		if now.Sub(f.since) < d.c.cfg.DetectAfter || now.Before(f.retryAt) {
			continue
		}
		retry, err := d.c.failover(ctx, ch.key, f, nil)
		if err != nil && ctx.Err() == nil {
			d.c.log.Error("failover: failover did not complete; will retry", "shard", ch.key, "primary", ch.primary.Alias, "err", err)
		}
		if retry > 0 {
			f.retryAt = time.Now().Add(retry)
		} else {
			delete(d.failing, ch.key)
		}
	}
	for k := range d.failing {
		if !seen[k] {
			delete(d.failing, k)
		}
	}
	d.fence(ctx, snap)
	d.repointStrays(ctx, snap)
	d.c.runReparents(ctx)
	return nil
}

// probe logs in to a tablet and asks it a question. A server that answers,
// even with an error (too many connections, access denied), is alive: only
// one that doesn't answer within checkTimeout is failing. A fresh login
// each time, rather than a kept connection, so a hung server costs the
// check nothing more than its timeout.
func (c *Controller) probe(ctx context.Context, t *topo.Tablet) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.checkTimeout())
	defer cancel()
	conn, err := c.dial(ctx, t)
	if err != nil {
		if isServerError(err) {
			return nil
		}
		return err
	}
	defer conn.Close()
	if _, err := conn.Execute(ctx, "SELECT 1"); err != nil && !isServerError(err) {
		return err
	}
	return nil
}

func (c *Controller) dial(ctx context.Context, t *topo.Tablet) (*tablet.Conn, error) {
	cc := c.cfg.Backend
	cc.Addr, cc.DB = t.Addr(), ""
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("tablet %s (%s): %w", t.Alias, t.Addr(), err)
	}
	return conn, nil
}

// isServerError tells whether err is an answer from a MySQL server.
func isServerError(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me)
}
