package failover

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// The leader checks every tablet, replicas and drained ones included, as
// often as it checks primaries, and keeps one health record per tablet in
// the topology (topo.TabletHealth): what gateways choose replicas by and
// what SHOW VITESS_TABLETS shows. It writes a record only when something
// in it changed (lag counted in buckets, see lagBucket) or every
// HealthRefresh, so a quiet estate writes almost nothing to etcd.
//
// Unlike the primaries' probe (a fresh login per check, see probe), the
// health pass keeps one connection per tablet and logs in again only
// after an error: a login per tablet twice a second was most of what an
// idle `shardgate up` cluster (10 instances) spent its CPU on, taken from
// the queries it serves. A hung server still costs a check no more than
// its timeout (Execute closes the connection when ctx ends).

// healthChecker is one leadership term's health loop; its goroutine is the
// only user.
type healthChecker struct {
	c *Controller
	// written is the last record written per tablet.
	written map[topo.TabletAlias]*topo.TabletHealth
	// pruneAt: records of tablets gone from the topology are removed then.
	pruneAt time.Time
	// conns are the kept connections, by tablet; closed by close.
	conns map[topo.TabletAlias]keptConn
}

// keptConn is a health connection and the address it was opened to.
type keptConn struct {
	conn *tablet.Conn
	addr string
}

// close closes the kept connections (the end of the leadership term).
func (hc *healthChecker) close() {
	for alias, kc := range hc.conns {
		kc.conn.Close()
		delete(hc.conns, alias)
	}
}

// checkHealth runs health passes every CheckInterval until ctx ends. It
// runs on the caller's goroutine.
func (c *Controller) checkHealth(ctx context.Context) {
	hc := &healthChecker{c: c, written: map[topo.TabletAlias]*topo.TabletHealth{}, conns: map[topo.TabletAlias]keptConn{}}
	defer hc.close()
	t := time.NewTicker(c.cfg.CheckInterval)
	defer t.Stop()
	for {
		if err := hc.pass(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("failover: health pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pass checks every tablet in parallel and writes the records that
// changed.
func (hc *healthChecker) pass(ctx context.Context) error {
	store := hc.c.cfg.Store
	tablets, err := store.ListTablets(ctx)
	if err != nil {
		return err
	}
	found := make([]*topo.TabletHealth, len(tablets))
	conns := make([]*tablet.Conn, len(tablets))
	for i, t := range tablets {
		kc, ok := hc.conns[t.Alias]
		switch {
		case !ok:
		case kc.addr != t.Addr():
			// The tablet moved (re-added on another port).
			kc.conn.Close()
		default:
			conns[i] = kc.conn
		}
	}
	var wg sync.WaitGroup
	for i, t := range tablets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i], conns[i] = hc.c.tabletHealth(ctx, t, conns[i])
		}()
	}
	wg.Wait()
	listed := make(map[topo.TabletAlias]bool, len(tablets))
	for _, t := range tablets {
		listed[t.Alias] = true
	}
	for alias, kc := range hc.conns {
		if !listed[alias] {
			kc.conn.Close() // the tablet left the topology
		}
	}
	clear(hc.conns)
	for i, t := range tablets {
		if conns[i] != nil {
			hc.conns[t.Alias] = keptConn{conn: conns[i], addr: t.Addr()}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	now := time.Now()
	present := map[topo.TabletAlias]bool{}
	for _, h := range found {
		present[h.Alias] = true
		last := hc.written[h.Alias]
		if last != nil && sameHealth(last, h) && now.Sub(last.CheckedAt) < hc.c.cfg.HealthRefresh {
			continue
		}
		if err := store.SaveTabletHealth(ctx, h); err != nil {
			return err
		}
		if last == nil || !sameHealth(last, h) {
			hc.c.log.Debug("failover: tablet health", "tablet", h.Alias, "reachable", h.Reachable, "replication", h.Replication(), "lag", lagString(h.LagSeconds), "err", h.Error)
		}
		hc.written[h.Alias] = h
	}
	for alias := range hc.written {
		if !present[alias] {
			delete(hc.written, alias)
		}
	}
	if now.Before(hc.pruneAt) {
		return nil
	}
	hc.pruneAt = now.Add(hc.c.cfg.HealthRefresh)
	records, err := store.ListTabletHealth(ctx)
	if err != nil {
		return err
	}
	for _, h := range records {
		if !present[h.Alias] {
			if err := store.DeleteTabletHealth(ctx, h.Alias); err != nil {
				return err
			}
		}
	}
	return nil
}

// tabletHealth checks one tablet on conn, or on a fresh login when conn
// is nil, bounded as a primary's check is. It returns the connection to
// keep for the next check: nil after any error (it is closed), so the
// next check logs in afresh. A kept connection that fails is retried at
// once with a fresh login, so the record says what a fresh login finds:
// a connection the server closed (wait_timeout, a KILL, a restart that
// is already over) does not make the tablet look unreachable for a pass.
func (c *Controller) tabletHealth(ctx context.Context, t *topo.Tablet, conn *tablet.Conn) (*topo.TabletHealth, *tablet.Conn) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.checkTimeout())
	defer cancel()
	if conn != nil {
		h := &topo.TabletHealth{Alias: t.Alias, CheckedAt: time.Now()}
		if err := readHealth(ctx, conn, h); err == nil {
			return h, conn
		}
		conn.Close()
		if ctx.Err() != nil {
			// The kept connection used up the check's time: the
			// server is as slow to a fresh login.
			return &topo.TabletHealth{Alias: t.Alias, CheckedAt: h.CheckedAt, Error: ctx.Err().Error()}, nil
		}
	}
	h := &topo.TabletHealth{Alias: t.Alias, CheckedAt: time.Now()}
	conn, err := c.dial(ctx, t)
	if err != nil {
		h.Error = err.Error()
		return h, nil
	}
	if err := readHealth(ctx, conn, h); err != nil {
		h.Error = err.Error()
		// A server that answers with an error is reachable, but what it
		// said of itself can't be trusted: keep it out of replica reads.
		h.Reachable = false
		conn.Close()
		return h, nil
	}
	return h, conn
}

// readHealth fills h from the instance: read_only and GTID position, then
// the replication threads and lag from SHOW SLAVE STATUS (NULL
// Seconds_Behind_Master, as when a thread is stopped, leaves the lag
// unknown).
func readHealth(ctx context.Context, conn *tablet.Conn, h *topo.TabletHealth) error {
	r, err := conn.Execute(ctx, "SELECT @@global.read_only, @@global.gtid_current_pos")
	if err != nil {
		return err
	}
	if len(r.Rows) != 1 || len(r.Rows[0]) != 2 {
		return fmt.Errorf("read_only and gtid_current_pos: got %d rows", len(r.Rows))
	}
	h.ReadOnly = string(r.Rows[0][0]) == "1"
	h.GTIDPosition = string(r.Rows[0][1])
	st, err := conn.Execute(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return err
	}
	h.Reachable = true
	if len(st.Rows) == 0 {
		return nil
	}
	col := func(name string) []byte {
		for i, f := range st.Fields {
			if string(f.Name) == name {
				return st.Rows[0][i]
			}
		}
		return nil
	}
	h.Replicating = true
	h.IORunning = string(col("Slave_IO_Running")) == "Yes"
	h.SQLRunning = string(col("Slave_SQL_Running")) == "Yes"
	if lag := col("Seconds_Behind_Master"); lag != nil {
		n, err := strconv.ParseInt(string(lag), 10, 64)
		if err != nil {
			return fmt.Errorf("Seconds_Behind_Master %q: %w", lag, err)
		}
		h.LagSeconds = &n
	}
	if h.Error = string(col("Last_SQL_Error")); h.Error == "" {
		h.Error = string(col("Last_IO_Error"))
	}
	return nil
}

// sameHealth tells whether two records say the same, up to the lag
// bucket, the time of the check and the GTID position (which moves with
// every write: it is refreshed every HealthRefresh, not on change).
func sameHealth(a, b *topo.TabletHealth) bool {
	return a.Reachable == b.Reachable && a.Error == b.Error && a.ReadOnly == b.ReadOnly &&
		a.Replicating == b.Replicating && a.IORunning == b.IORunning && a.SQLRunning == b.SQLRunning &&
		lagBucket(a.LagSeconds) == lagBucket(b.LagSeconds)
}

// lagBucket coarsens a lag so that a record is rewritten only when the
// lag moves enough to matter: 0 and 1 s are the same (Seconds_Behind_Master
// flickers between them under load), then every second up to a minute
// (where lag limits are set), every 10 s up to 10 min, every minute
// beyond. Unknown lag is its own bucket.
func lagBucket(lag *int64) int64 {
	switch {
	case lag == nil:
		return -1
	case *lag < 2:
		return 0
	case *lag <= 60:
		return *lag
	case *lag <= 600:
		return *lag / 10 * 10
	}
	return *lag / 60 * 60
}

func lagString(lag *int64) string {
	if lag == nil {
		return "unknown"
	}
	return strconv.FormatInt(*lag, 10) + "s"
}
