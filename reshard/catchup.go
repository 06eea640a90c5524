package reshard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// errNotCatchingUp: the workflow left the states in which catch-up runs.
var errNotCatchingUp = errors.New("reshard: workflow is no longer catching up")

// catchesUp reports whether catch-up runs in state s: from the end of the
// copy until writes are switched.
func catchesUp(s topo.WorkflowState) bool {
	return s == topo.WorkflowRunning || s == topo.WorkflowReadsSwitched
}

const (
	// idleWait is how long the stream may be quiet before catch-up counts
	// itself caught up (lag 0) and writes its position to every target.
	// A write switch waits that long, at least, for the targets no final
	// transaction touched to store the sources' final positions, so it
	// is part of the write stall (was 250 ms).
	idleWait = 100 * time.Millisecond
	// reportEvery is how often progress goes to the workflow record and
	// positions to the targets no transaction touched.
	reportEvery = time.Second
	// vdiffRequestTTL: a vdiff request older than this is ignored, so a
	// vdiff that died doesn't pause catch-up for ever.
	vdiffRequestTTL = 2 * time.Minute
)

// catchUpWorkflow streams every source shard's binlog into the targets
// until ctx ends, the workflow leaves the catch-up states, or an error;
// one goroutine per source shard, all ended when it returns.
func (r *Runner) catchUpWorkflow(ctx context.Context, w *topo.Workflow, guard clientv3.Cmp) error {
	return r.streamWorkflow(ctx, w, guard, false)
}

// streamWorkflow runs catch-up one way: forward (sources → targets), or
// reverse (targets → sources, while writes are switched; reverse.go).
func (r *Runner) streamWorkflow(ctx context.Context, w *topo.Workflow, guard clientv3.Cmp, reverse bool) error {
	snap, err := r.cfg.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	ks := snap.VSchema.Keyspaces[w.Keyspace]
	if ks == nil {
		return permanent(fmt.Errorf("keyspace %q is gone: %w", w.Keyspace, ErrInvalid))
	}
	view := w
	if reverse {
		view = reversed(w)
	}
	wc := &workflowCopy{r: r, wf: view, ks: ks, guard: guard, sources: map[string]string{}}
	if err := wc.resolve(snap, view.SourceShards); err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(view.SourceShards))
	var wg sync.WaitGroup
	for i, shard := range view.SourceShards {
		var snapshot, from string
		if !reverse {
			start := w.Copy[shard]
			if start == nil || start.SnapshotGTID == "" {
				return permanent(fmt.Errorf("source shard %s has no snapshot position: %w", shard, ErrInvalid))
			}
			snapshot, from = start.SnapshotGTID, cmp.Or(start.CatchupFromGTID, start.SnapshotGTID)
		}
		c := &catchup{r: r, wf: view, ks: ks, source: shard, srcAddr: wc.sources[shard], targets: wc.targets,
			snapshot: snapshot, from: from, guard: guard, reverse: reverse, srcDB: sourceDB(view)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.run(cctx); err != nil {
				if cctx.Err() != nil && ctx.Err() == nil {
					return
				}
				cancel()
				errs[i] = fmt.Errorf("source shard %s: %w", shard, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// catchup streams one source shard's binlog into the targets.
type catchup struct {
	r        *Runner
	wf       *topo.Workflow
	ks       *vschema.KeyspaceSchema
	source   string
	srcAddr  string
	targets  []target
	snapshot string
	// from is where a target with no stored position starts reading
	// (CopyProgress.CatchupFromGTID): at or before snapshot.
	from  string
	guard clientv3.Cmp
	// srcDB is the database whose row events are the workflow's.
	srcDB string
	// reverse: this stream runs targets → sources while writes are
	// switched (wf is then the reversed view: its sources are the
	// workflow's targets); its positions and progress are kept apart.
	reverse bool

	conns  []*tablet.Conn
	tables map[string]*catchupTable
	// applied is, per target, the position of the source it has applied
	// (as stored on it, or further once written).
	applied []position
	// pos: every transaction before it is handled (applied, skipped,
	// or buffered in pending).
	pos position
	// pending are prepared XA transactions by xid, applied at their
	// XA COMMIT.
	pending map[string]*group
	cur     *group

	latest      *topo.Workflow // as last read from the record
	lastPoll    time.Time
	lastReport  time.Time
	lastEvent   time.Time // source timestamp of the last applied transaction
	idle        bool
	rowsApplied int64
}

// group is one source transaction's events.
type group struct {
	gtid       gtid
	before     position
	standalone bool
	xid        string
	changes    []rowChange
	ts         time.Time
}

func (c *catchup) log() []any {
	return []any{"workflow", c.wf.Keyspace + "/" + c.wf.Name, "source", c.source, "reverse", c.reverse}
}

func (c *catchup) run(ctx context.Context) error {
	defer func() {
		for _, conn := range c.conns {
			if conn != nil {
				conn.Close()
			}
		}
	}()
	start, err := c.setup(ctx)
	if err != nil {
		return err
	}
	host, portText, err := net.SplitHostPort(c.srcAddr)
	if err != nil {
		return err
	}
	port, _ := strconv.ParseUint(portText, 10, 16)
	login := sourceLogin(c.r.cfg.Conn, c.wf, c.srcAddr)
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:                c.serverID(),
		Flavor:                  mysql.MariaDBFlavor,
		Host:                    host,
		Port:                    uint16(port),
		User:                    login.User,
		Password:                login.Password,
		HeartbeatPeriod:         time.Second,
		ReadTimeout:             10 * time.Second,
		DisableRetrySync:        true,
		TimestampStringLocation: time.UTC,
		Logger:                  c.r.cfg.Logger,
	})
	defer syncer.Close()
	gset, err := mysql.ParseMariadbGTIDSet(start.String())
	if err != nil {
		return err
	}
	stream, err := syncer.StartSyncGTID(gset)
	if err != nil {
		return fmt.Errorf("binlog stream from %s at %s: %w", c.srcAddr, start, err)
	}
	c.r.cfg.Logger.Info("reshard: catching up", append(c.log(), "from", start.String())...)
	for {
		if err := c.poll(ctx); err != nil {
			return err
		}
		ectx, cancel := context.WithTimeout(ctx, idleWait)
		ev, err := stream.GetEvent(ectx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				if err := c.onIdle(ctx); err != nil {
					return err
				}
				continue
			}
			var myErr *mysql.MyError
			if errors.As(err, &myErr) && myErr.Code == mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG {
				// The source no longer has the binlog to resume from
				// (purged): no retry brings the events back.
				return permanent(fmt.Errorf("binlog stream from %s at %s: %w (the source's binlogs from that position are gone: keep binlogs longer than a workflow's pauses): %w", c.srcAddr, start, err, ErrInvalid))
			}
			return fmt.Errorf("binlog stream: %w", err)
		}
		c.idle = false
		if err := c.handle(ctx, ev); err != nil {
			return err
		}
		if time.Since(c.lastReport) >= reportEvery {
			if err := c.flush(ctx); err != nil {
				return err
			}
		}
	}
}

// serverID is the replica server_id the binlog stream registers with:
// fixed per workflow and source (a new controller's stream replaces a
// dead one's), and far above the ids instances use.
func (c *catchup) serverID() uint32 {
	h := fnv.New32a()
	h.Write([]byte(c.wf.Keyspace + "/" + c.posName() + "/" + c.source))
	return 1<<30 + h.Sum32()%(1<<29)
}

// setup connects to the targets, reads their positions and the tables,
// and returns the position to stream from: the earliest restart position
// over the targets (the snapshot's for a target with none).
func (c *catchup) setup(ctx context.Context) (position, error) {
	snap, err := parsePosition(c.snapshot)
	if err != nil {
		return nil, permanent(err)
	}
	from := snap
	if c.from != "" {
		if from, err = parsePosition(c.from); err != nil {
			return nil, permanent(err)
		}
	}
	c.conns = make([]*tablet.Conn, len(c.targets))
	c.applied = make([]position, len(c.targets))
	restarts := make([]position, len(c.targets))
	for i, t := range c.targets {
		conn, err := dialTarget(ctx, c.r.cfg.Conn, t.addr, c.wf.Keyspace)
		if err == nil {
			_, err = conn.Execute(ctx, catchupSession)
			c.conns[i] = conn
		}
		if err == nil {
			err = ensurePositionTable(ctx, conn)
		}
		var applied, restart position
		var ok bool
		if err == nil {
			applied, restart, ok, err = readPositions(ctx, conn, c.wf.Keyspace, c.posName(), c.source)
		}
		if err == nil && !ok && c.reverse {
			// The write switch stores where reverse replication starts
			// before it flips; without it there is no safe place to start.
			err = fmt.Errorf("no reverse replication position for %s stored: %w", c.source, ErrInvalid)
		}
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.name, err)
		}
		if !ok {
			applied, restart = snap, from
		}
		c.applied[i], restarts[i] = snap.merge(applied), restart
	}
	start := minPosition(restarts)
	c.pos, c.pending = start.clone(), map[string]*group{}

	src, err := tablet.Dial(ctx, sourceLogin(c.r.cfg.Conn, c.wf, c.srcAddr))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	split, reference, err := workflowTables(ctx, c.wf, c.ks, src)
	if err != nil {
		return nil, permanent(err)
	}
	c.tables = map[string]*catchupTable{}
	for _, name := range split {
		ti, err := describeTable(ctx, src, c.ks, name)
		if err != nil {
			return nil, permanent(err)
		}
		c.tables[name] = &catchupTable{tableInfo: ti}
	}
	for _, name := range reference {
		ti, err := describeColumns(ctx, src, name)
		if err != nil {
			return nil, permanent(err)
		}
		c.tables[name] = &catchupTable{tableInfo: ti, reference: true}
	}
	if p := c.progressOf(c.wf)[c.source]; p != nil {
		c.rowsApplied = p.RowsApplied // counting on from the last controller's report
	}
	c.lastReport = time.Now()
	return start, nil
}

// handle takes one binlog event.
func (c *catchup) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	switch e := ev.Event.(type) {
	case *replication.MariadbGTIDEvent:
		c.cur = &group{
			gtid:       gtid{e.GTID.DomainID, e.GTID.ServerID, e.GTID.SequenceNumber},
			before:     c.pos.clone(),
			standalone: e.IsStandalone(),
			ts:         time.Unix(int64(ev.Header.Timestamp), 0),
		}
		return nil
	case *replication.RowsEvent:
		return c.onRows(e)
	case *replication.XIDEvent:
		return c.commit(ctx)
	case *replication.QueryEvent:
		return c.onQuery(ctx, e)
	}
	if ev.Header.EventType == replication.XA_PREPARE_LOG_EVENT && c.cur != nil {
		// Prepared, not committed: keep its rows until XA COMMIT.
		if c.cur.xid == "" {
			return permanent(fmt.Errorf("XA PREPARE in %s without XA END: %w", c.cur.gtid, ErrInvalid))
		}
		c.pending[c.cur.xid] = c.cur
		c.pos.add(c.cur.gtid)
		c.cur = nil
	}
	return nil
}

func (c *catchup) onRows(e *replication.RowsEvent) error {
	if c.cur == nil || string(e.Table.Schema) != c.srcDB {
		return nil
	}
	t := c.tables[string(e.Table.Table)]
	if t == nil {
		return nil // not a workflow table (a new table comes with DDL, which stops the workflow)
	}
	if int(e.ColumnCount) != len(t.fields) {
		return permanent(fmt.Errorf("table %q: the binlog has %d columns, the table had %d when catch-up started: %w",
			t.name, e.ColumnCount, len(t.fields), ErrInvalid))
	}
	for _, skipped := range e.SkippedColumns {
		if len(skipped) > 0 {
			return permanent(fmt.Errorf("table %q: the binlog lacks columns of a row image; catch-up needs binlog_row_image=FULL: %w", t.name, ErrInvalid))
		}
	}
	text := func(row []any) [][]byte {
		out := make([][]byte, len(row))
		for i, v := range row {
			out[i] = binlogText(t.fields[i], v)
		}
		return out
	}
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert:
		for _, row := range e.Rows {
			c.cur.changes = append(c.cur.changes, rowChange{table: t, after: text(row)})
		}
	case replication.EnumRowsEventTypeDelete:
		for _, row := range e.Rows {
			c.cur.changes = append(c.cur.changes, rowChange{table: t, before: text(row)})
		}
	case replication.EnumRowsEventTypeUpdate:
		for i := 0; i+1 < len(e.Rows); i += 2 {
			c.cur.changes = append(c.cur.changes, rowChange{table: t, before: text(e.Rows[i]), after: text(e.Rows[i+1])})
		}
	}
	return nil
}

// onQuery handles the statements a row-based binlog still has: BEGIN,
// COMMIT, XA's, and DDL.
func (c *catchup) onQuery(ctx context.Context, e *replication.QueryEvent) error {
	q := strings.TrimSpace(string(e.Query))
	word := strings.ToUpper(firstWords(q, 2))
	switch {
	case word == "BEGIN" || strings.HasPrefix(word, "BEGIN "):
		return nil
	case word == "COMMIT":
		return c.commit(ctx)
	case word == "ROLLBACK":
		c.endGroup()
		return nil
	case word == "XA END":
		// MariaDB writes no XA START (the GTID event has the flag): the
		// XA END query inside the group names the xid, in the form its
		// XA COMMIT and XA ROLLBACK groups use (X'..',X'..',n).
		if c.cur != nil {
			c.cur.xid = xidOf(q)
		}
		return nil
	case word == "XA COMMIT":
		xid := xidOf(q)
		if c.cur != nil && c.cur.xid == xid {
			return c.commit(ctx) // XA COMMIT ... ONE PHASE in its own group
		}
		prepared, ok := c.pending[xid]
		if !ok {
			return permanent(fmt.Errorf("XA COMMIT %s at %s: its XA PREPARE is before the position catch-up started from (prepared before the copy's snapshot?); the targets lack its rows: %w", xid, c.gtidText(), ErrInvalid))
		}
		delete(c.pending, xid)
		if c.cur == nil {
			return permanent(fmt.Errorf("XA COMMIT %s outside a GTID event group: %w", xid, ErrInvalid))
		}
		c.cur.changes = prepared.changes
		return c.commit(ctx)
	case word == "XA ROLLBACK":
		delete(c.pending, xidOf(q))
		c.endGroup()
		return nil
	}
	if isDDL(word) && !isPositionDDL(q) && ddlConcerns(c.wf, string(e.Schema), q) {
		return permanent(fmt.Errorf("DDL on source shard %s at %s (%.200s): the targets' schema would diverge; the workflow stops: %w",
			c.source, c.gtidText(), q, ErrInvalid))
	}
	if c.cur != nil && c.cur.standalone {
		c.endGroup()
	}
	return nil
}

func (c *catchup) gtidText() string {
	if c.cur == nil {
		return "?"
	}
	return c.cur.gtid.String()
}

// endGroup ends the current group without applying anything.
func (c *catchup) endGroup() {
	if c.cur != nil {
		c.pos.add(c.cur.gtid)
		c.cur = nil
	}
}

// commit applies the current group to the targets that don't have it.
func (c *catchup) commit(ctx context.Context) error {
	g := c.cur
	if g == nil {
		return nil
	}
	if err := c.vdiffHold(ctx); err != nil {
		return err
	}
	restart := c.restartAfter(&g.gtid)
	touched := false
	errs := make([]error, len(c.targets))
	var wg sync.WaitGroup
	for i, t := range c.targets {
		if c.applied[i].has(g.gtid) {
			continue // applied before a restart
		}
		stmts, err := c.statementsFor(i, g.changes)
		if err != nil {
			return err
		}
		if len(stmts) == 0 {
			continue // written with the next flush
		}
		applied := c.applied[i].merge(c.pos)
		applied.add(g.gtid)
		stmts = append(stmts, positionStatement(c.wf.Keyspace, c.posName(), c.source, applied, restart))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := execInTransaction(ctx, c.conns[i], stmts); err != nil {
				errs[i] = fmt.Errorf("target %s: apply %s: %w", t.name, g.gtid, err)
				return
			}
			c.applied[i] = applied
		}()
		touched = true
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if touched {
		c.rowsApplied += int64(len(g.changes))
	}
	c.pos.add(g.gtid)
	c.lastEvent = g.ts
	c.cur = nil
	return nil
}

// restartAfter is the position a new stream must start from once the
// group at g (nil: none) is applied: g's, or earlier to re-read a pending
// XA's events.
func (c *catchup) restartAfter(g *gtid) position {
	p := c.pos.clone()
	if g != nil {
		p.add(*g)
	}
	for _, x := range c.pending {
		p = minPosition([]position{p, x.before})
	}
	return p
}

// statementsFor returns the statements that apply changes to target i,
// in order; consecutive REPLACEs of one table go in one multi-row
// statement (a later row of the same key wins, as it would in order).
func (c *catchup) statementsFor(i int, changes []rowChange) ([]string, error) {
	var out []string
	var open []byte // a REPLACE that more rows of its table may join
	var openTable *catchupTable
	closeOpen := func() {
		if open != nil {
			out = append(out, string(open))
			open, openTable = nil, nil
		}
	}
	for _, ch := range changes {
		ti := ch.table
		owns := func(row [][]byte) (bool, error) {
			if ch.table.reference || ti.vx == nil {
				return true, nil // every target, or an unsharded keyspace's one
			}
			id, err := ti.vx.Map(vindexValue(ti.fields[ti.vcol], row[ti.vcol]))
			if err != nil {
				return false, permanent(fmt.Errorf("table %q key %v: %w", ti.name, ti.keyOf(row), err))
			}
			return c.targets[i].kr.Contains(id), nil
		}
		var ownsBefore, ownsAfter bool
		var err error
		if ch.before != nil {
			if ownsBefore, err = owns(ch.before); err != nil {
				return nil, err
			}
		}
		if ch.after != nil {
			if ownsAfter, err = owns(ch.after); err != nil {
				return nil, err
			}
		}
		// An update that moves the row (new keyspace id or new primary
		// key) deletes the old image where it was.
		if ownsBefore && (ch.after == nil || !ownsAfter || !samePK(ti.tableInfo, ch.before, ch.after)) {
			closeOpen()
			out = append(out, deleteStatement(ti.tableInfo, ch.before))
		}
		if ownsAfter {
			if openTable == ti && len(open) < maxStatementBytes {
				open = appendReplaceRow(append(open, ','), ti.tableInfo, ch.after)
			} else {
				closeOpen()
				open, openTable = []byte(replaceStatement(ti.tableInfo, ch.after)), ti
			}
		}
	}
	closeOpen()
	return out, nil
}

// onIdle: the stream has been quiet for idleWait, so everything the
// source wrote is applied: lag 0, positions written to every target.
func (c *catchup) onIdle(ctx context.Context) error {
	if c.cur != nil {
		return nil // mid-transaction: its end is on its way
	}
	c.idle = true
	if err := c.vdiffHold(ctx); err != nil {
		return err
	}
	if time.Since(c.lastReport) >= reportEvery || !c.allFlushed() {
		return c.flush(ctx)
	}
	return nil
}

func (c *catchup) allFlushed() bool {
	for _, a := range c.applied {
		if !a.covers(c.pos) {
			return false
		}
	}
	return true
}

// flush writes the position to the targets behind it (no transaction of
// late touched them) and reports progress in the workflow record.
func (c *catchup) flush(ctx context.Context) error {
	restart := c.restartAfter(nil)
	for i, t := range c.targets {
		if c.applied[i].covers(c.pos) {
			continue
		}
		applied := c.applied[i].merge(c.pos)
		if _, err := c.conns[i].Execute(ctx, positionStatement(c.wf.Keyspace, c.posName(), c.source, applied, restart)); err != nil {
			return fmt.Errorf("target %s: write position: %w", t.name, err)
		}
		c.applied[i] = applied
	}
	c.lastReport = time.Now()
	lag := 0.0
	if !c.idle && !c.lastEvent.IsZero() {
		lag = max(0, time.Since(c.lastEvent).Seconds())
	}
	p := topo.CatchupProgress{Position: c.pos.String(), RowsApplied: c.rowsApplied, LagSeconds: lag, Updated: time.Now().UTC()}
	err := c.r.cfg.Store.UpdateWorkflow(ctx, c.wf.Keyspace, c.wf.Name, func(w *topo.Workflow) error {
		if !c.active(w.State) {
			return errNotCatchingUp
		}
		c.setProgress(w, &p)
		w.Error = "" // a transient error of an earlier attempt is over
		return nil
	}, c.guard)
	if errors.Is(err, topo.ErrBadVersion) {
		return fmt.Errorf("%w: %v", ErrNotLeader, err)
	}
	return err
}

// poll re-reads the workflow record (at most every idleWait): catch-up
// stops when the workflow leaves its states; a vdiff request shows here.
func (c *catchup) poll(ctx context.Context) error {
	if time.Since(c.lastPoll) < idleWait && c.latest != nil {
		return nil
	}
	w, err := c.r.cfg.Store.GetWorkflow(ctx, c.wf.Keyspace, c.wf.Name)
	if err != nil {
		return err
	}
	if !c.active(w.State) {
		return errNotCatchingUp
	}
	c.latest, c.lastPoll = w, time.Now()
	return nil
}

// firstWords returns the first n words of q, single-spaced.
func firstWords(q string, n int) string {
	f := strings.Fields(q)
	return strings.Join(f[:min(n, len(f))], " ")
}

// xidOf returns the xid of an XA statement (what follows its two
// keywords, without a trailing ONE PHASE), spaces removed so that the
// forms MariaDB writes compare equal.
func xidOf(q string) string {
	f := strings.Fields(q)
	if len(f) < 3 {
		return ""
	}
	rest := strings.Join(f[2:], "")
	rest = strings.TrimSuffix(strings.TrimSuffix(rest, "ONEPHASE"), "onephase")
	return rest
}

// isDDL reports whether a statement's first words are DDL.
func isDDL(words string) bool {
	w := strings.ToUpper(words)
	for _, p := range []string{"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"} {
		if strings.HasPrefix(w, p+" ") || w == p {
			return true
		}
	}
	return false
}

// isPositionDDL reports whether a statement creates the position schema
// or table (createPositionSchema, createPositionTable): the write switch
// creates them on the sources for reverse replication, from a connection
// whose default database is the keyspace's, so the forward catch-up of
// the same workflow reads them as DDL in the keyspace. They change no
// table of the keyspace.
func isPositionDDL(q string) bool {
	return strings.Contains(strings.ToLower(q), "`"+positionSchema+"`")
}

// mentionsSchema reports whether a statement names schema as a qualifier
// (`ks`.t or ks.t): DDL on the keyspace's tables from another default
// database.
func mentionsSchema(q, schema string) bool {
	lq := strings.ToLower(q)
	ls := strings.ToLower(schema)
	return strings.Contains(lq, "`"+ls+"`.") || strings.Contains(lq, " "+ls+".")
}
