package reshard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// errStopped: the workflow left state copying (cancelled, or moved on by
// another controller) while a copy ran.
var errStopped = errors.New("reshard: workflow is no longer copying")

// target is a target shard: its key range and primary's address.
type target struct {
	name string
	kr   vindex.KeyRange
	addr string
}

// workflowCopy copies one workflow's source shards, each on a goroutine
// of its own that ends before copy returns.
type workflowCopy struct {
	r       *Runner
	wf      *topo.Workflow
	ks      *vschema.KeyspaceSchema
	targets []target
	sources map[string]string // source shard → primary address
	// guard holds while this runner leads; progress is written only then.
	guard clientv3.Cmp
}

// copyWorkflow runs the copy phase of w to its end: every source shard
// copied, then the workflow moves to running.
func (r *Runner) copyWorkflow(ctx context.Context, w *topo.Workflow, guard clientv3.Cmp) error {
	snap, err := r.cfg.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	ks := snap.VSchema.Keyspaces[w.Keyspace]
	if ks == nil {
		return permanent(fmt.Errorf("keyspace %q is gone: %w", w.Keyspace, ErrInvalid))
	}
	wc := &workflowCopy{r: r, wf: w, ks: ks, guard: guard, sources: map[string]string{}}
	var todo []string
	for _, name := range w.SourceShards {
		if p := w.Copy[name]; p == nil || !p.Done {
			todo = append(todo, name)
		}
	}
	if err := wc.resolve(snap, todo); err != nil {
		return err
	}

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, 0, len(wc.sources))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for shard, addr := range wc.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := wc.copyShard(cctx, shard, addr); err != nil {
				if cctx.Err() != nil && ctx.Err() == nil {
					return // stopped because a sibling failed: its error says why
				}
				cancel() // one failed: stop the others, the next pass resumes them
				mu.Lock()
				errs = append(errs, fmt.Errorf("source shard %s: %w", shard, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return r.cfg.Store.UpdateWorkflow(ctx, w.Keyspace, w.Name, func(w *topo.Workflow) error {
		if w.State != topo.WorkflowCopying {
			return errStopped
		}
		for _, s := range w.SourceShards {
			if p := w.Copy[s]; p == nil || !p.Done {
				return fmt.Errorf("source shard %s is not copied yet", s)
			}
		}
		w.State, w.Error = topo.WorkflowRunning, ""
		return nil
	}, guard)
}

// resolve finds the targets' key ranges and primaries, and the primaries
// of the named source shards.
func (wc *workflowCopy) resolve(snap *topo.Snapshot, sources []string) error {
	addrOf := func(keyspace, shard string) (string, error) {
		for _, sh := range snap.Shards[keyspace] {
			if sh.Name != shard {
				continue
			}
			if sh.PrimaryAlias == nil {
				return "", fmt.Errorf("shard %s/%s has no primary", keyspace, shard)
			}
			for _, t := range snap.Tablets {
				if t.Alias == *sh.PrimaryAlias {
					return t.Addr(), nil
				}
			}
			return "", fmt.Errorf("shard %s/%s: primary %s is not a tablet", keyspace, shard, sh.PrimaryAlias)
		}
		return "", fmt.Errorf("shard %s/%s doesn't exist", keyspace, shard)
	}
	for _, name := range wc.wf.TargetShards {
		kr, err := vindex.ParseKeyRange(name)
		if err != nil {
			return permanent(err)
		}
		addr, err := addrOf(wc.wf.Keyspace, name)
		if err != nil {
			return err
		}
		wc.targets = append(wc.targets, target{name: name, kr: kr, addr: addr})
	}
	for _, name := range sources {
		if mt := wc.wf.MoveTables; mt != nil && mt.External != nil {
			wc.sources[name] = mt.External.Address
			continue
		}
		addr, err := addrOf(sourceKeyspace(wc.wf), name)
		if err != nil {
			return err
		}
		wc.sources[name] = addr
	}
	return nil
}

// copyShard copies one source shard from a consistent snapshot, resuming
// after the progress saved in the workflow.
func (wc *workflowCopy) copyShard(ctx context.Context, shard, addr string) error {
	src, err := tablet.Dial(ctx, sourceLogin(wc.r.cfg.Conn, wc.wf, addr))
	if err != nil {
		return err
	}
	defer src.Close()
	var around func(bool)
	if hook := wc.r.cfg.AroundCopySnapshot; hook != nil {
		around = func(taken bool) { hook(shard, taken) }
	}
	gtid, from, err := startCopySnapshot(ctx, src, around)
	if err != nil {
		return err
	}
	cur, err := wc.r.cfg.Store.GetWorkflow(ctx, wc.wf.Keyspace, wc.wf.Name)
	if err != nil {
		return err
	}
	var p topo.CopyProgress
	if saved := cur.Copy[shard]; saved != nil {
		p = *saved
	}
	if p.Started.IsZero() {
		split, _, err := workflowTables(ctx, wc.wf, wc.ks, src)
		if err != nil {
			return permanent(err)
		}
		p = topo.CopyProgress{SnapshotGTID: gtid, CatchupFromGTID: from, Tables: split, Started: time.Now().UTC()}
	}
	first := 0
	for i, t := range p.Tables {
		if t == p.Table {
			first = i
		}
	}
	infos := make([]*tableInfo, len(p.Tables))
	remaining := int64(0)
	for i := first; i < len(p.Tables); i++ {
		ti, err := describeTable(ctx, src, wc.ks, p.Tables[i])
		if err != nil {
			return permanent(err)
		}
		infos[i] = ti
		var last []string
		if p.Tables[i] == p.Table {
			last = p.LastPK
		}
		n, err := countRows(ctx, src, ti.countQuery(last))
		if err != nil {
			return err
		}
		remaining += n
	}
	p.RowsTotal = p.RowsCopied + remaining
	if err := wc.save(ctx, shard, &p); err != nil {
		return err
	}
	wc.r.cfg.Logger.Info("reshard: copying", "workflow", wc.wf.Keyspace+"/"+wc.wf.Name, "shard", shard,
		"gtid", p.SnapshotGTID, "table", p.Table, "rows_copied", p.RowsCopied, "rows_total", p.RowsTotal)

	conns := make([]*tablet.Conn, len(wc.targets))
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i, t := range wc.targets {
		if conns[i], err = dialTarget(ctx, wc.r.cfg.Conn, t.addr, wc.wf.Keyspace); err != nil {
			return fmt.Errorf("target %s: %w", t.name, err)
		}
	}
	if err := wc.copyChunks(ctx, shard, src, conns, infos[first:], &p); err != nil {
		return err
	}
	p.Done, p.Finished = true, time.Now().UTC()
	if err := wc.save(ctx, shard, &p); err != nil {
		return err
	}
	_, err = src.Execute(ctx, "COMMIT")
	return err
}

// chunk is rows read from a source, up to and including key last.
type chunk struct {
	ti     *tableInfo
	fields []*mysql.Field
	rows   [][][]byte
	last   []string
}

// copyChunks copies the tables from where p stopped, reading the next
// chunk from the source while the targets write the one before: a writer
// goroutine, which ends before copyChunks returns, writes each chunk and
// then saves p, in order.
func (wc *workflowCopy) copyChunks(ctx context.Context, shard string, src *tablet.Conn, conns []*tablet.Conn, tables []*tableInfo, p *topo.CopyProgress) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chunk, 1)
	written := make(chan error, 1)
	go func() {
		var err error
		for c := range chunks {
			if err != nil {
				continue // drain: the reader stops at the cancel
			}
			if err = wc.writeChunk(wctx, conns, c.ti, c.fields, c.rows); err == nil {
				p.Table, p.LastPK = c.ti.name, c.last
				p.RowsCopied += int64(len(c.rows))
				err = wc.save(wctx, shard, p)
			}
			if err != nil {
				cancel()
			}
		}
		written <- err
	}()
	readErr := wc.readChunks(wctx, src, tables, p.Table, p.LastPK, chunks)
	close(chunks)
	if err := <-written; err != nil {
		return err // the reader's error, if any, is the cancel
	}
	return readErr
}

// readChunks reads the tables in chunks, the first after key last if it
// is table, and sends them on chunks.
func (wc *workflowCopy) readChunks(ctx context.Context, src *tablet.Conn, tables []*tableInfo, table string, last []string, chunks chan<- chunk) error {
	for _, ti := range tables {
		var after []string
		if ti.name == table {
			after = last
		}
		for {
			res, err := src.Execute(ctx, ti.chunkQuery(after, wc.r.cfg.ChunkRows))
			if err != nil {
				return err
			}
			if len(res.Rows) == 0 {
				break
			}
			after = ti.keyOf(res.Rows[len(res.Rows)-1])
			select {
			case chunks <- chunk{ti: ti, fields: res.Fields, rows: res.Rows, last: after}:
			case <-ctx.Done():
				return ctx.Err()
			}
			if len(res.Rows) < wc.r.cfg.ChunkRows {
				break
			}
		}
	}
	return nil
}

// xaWaitAttempts × xaWaitPause bound how long a copy waits for the
// source's prepared XA transactions to end before its snapshot.
const (
	xaWaitAttempts = 200
	xaWaitPause    = 50 * time.Millisecond
)

// startCopySnapshot is startSnapshot at a moment when the source has no
// prepared XA transaction, and returns with the snapshot's position the
// one catch-up reads from, a little earlier (from). Catch-up applies an
// XA transaction's rows at its XA COMMIT from the events after its XA
// PREPARE; one prepared before the snapshot and committed after has its
// rows in neither the copy nor the events after the snapshot. So:
//   - from is @@gtid_binlog_pos read first; catch-up starts there and
//     skips (as applied) what the snapshot holds, so it sees the XA
//     PREPARE of every transaction prepared after from;
//   - then XA RECOVER must list nothing: a transaction prepared before
//     from is committed by now (in the snapshot) or listed;
//   - then the snapshot, and XA RECOVER inside it must list nothing too
//     (belt and braces: a transaction still prepared at the snapshot).
//
// While one is listed, everything is dropped and taken again a little
// later (2PC branches stay prepared for milliseconds).
//
// from is at most the snapshot's position, per domain: gtid_binlog_pos
// counts a transaction once it is in the binlog, before its engine commit
// (a semi-sync wait for a replica's acknowledgement sits between them), so
// it can be past the snapshot, which lacks that transaction; catch-up
// starting there would never apply it.
func startCopySnapshot(ctx context.Context, src *tablet.Conn, around func(taken bool)) (snapshot, from string, err error) {
	for attempt := 1; ; attempt++ {
		if from, err = binlogPos(ctx, src); err != nil {
			return "", "", err
		}
		res, err := src.Execute(ctx, "XA RECOVER")
		if err != nil {
			return "", "", fmt.Errorf("snapshot: XA RECOVER: %w", err)
		}
		if len(res.Rows) == 0 {
			if around != nil {
				around(false)
			}
			if snapshot, err = startSnapshot(ctx, src); err != nil {
				return "", "", err
			}
			if around != nil {
				around(true)
			}
			if res, err = src.Execute(ctx, "XA RECOVER"); err != nil {
				return "", "", fmt.Errorf("snapshot: XA RECOVER: %w", err)
			}
			if len(res.Rows) == 0 {
				from, err = earlierPosition(from, snapshot)
				return snapshot, from, err
			}
			if _, err := src.Execute(ctx, "ROLLBACK"); err != nil {
				return "", "", err
			}
		}
		if attempt == xaWaitAttempts {
			return "", "", fmt.Errorf("snapshot: the source has had prepared XA transactions for %v (e.g. %s); the copy waits for them to commit or roll back",
				xaWaitAttempts*xaWaitPause, res.Rows[0][len(res.Rows[0])-1])
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(xaWaitPause):
		}
	}
}

// earlierPosition is, per domain, the earlier of two GTID positions.
func earlierPosition(a, b string) (string, error) {
	pa, err := parsePosition(a)
	if err != nil {
		return "", err
	}
	pb, err := parsePosition(b)
	if err != nil {
		return "", err
	}
	return minPosition([]position{pa, pb}).String(), nil
}

// startSnapshot opens a consistent-snapshot transaction on a source and
// returns the GTID position it sees, without any global read lock:
// MariaDB reports the binlog file and offset matching the snapshot
// (Binlog_snapshot_file, Binlog_snapshot_position; it has no GTID form of
// them), which BINLOG_GTID_POS turns into a GTID position.
func startSnapshot(ctx context.Context, src *tablet.Conn) (string, error) {
	for _, q := range []string{
		"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT",
	} {
		if _, err := src.Execute(ctx, q); err != nil {
			return "", fmt.Errorf("snapshot: %w", err)
		}
	}
	res, err := src.Execute(ctx, "SHOW STATUS LIKE 'binlog_snapshot_%'")
	if err != nil {
		return "", fmt.Errorf("snapshot position: %w", err)
	}
	var file, pos string
	for _, row := range res.Rows {
		switch strings.ToLower(string(row[0])) {
		case "binlog_snapshot_file":
			file = string(row[1])
		case "binlog_snapshot_position":
			pos = string(row[1])
		}
	}
	if file == "" || !isNumberText([]byte(pos)) {
		return "", fmt.Errorf("snapshot position: got file %q offset %q; a MariaDB primary with log_bin is needed", file, pos)
	}
	var q []byte
	q = append(q, "SELECT BINLOG_GTID_POS("...)
	q = appendLiteral(q, &mysql.Field{Type: mysql.MYSQL_TYPE_VAR_STRING}, []byte(file))
	q = append(q, ", "+pos+")"...)
	res, err = src.Execute(ctx, string(q))
	if err != nil {
		return "", fmt.Errorf("snapshot GTID position: %w", err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] == nil {
		return "", fmt.Errorf("snapshot GTID position: BINLOG_GTID_POS(%s, %s) is NULL", file, pos)
	}
	return string(res.Rows[0][0]), nil
}

func countRows(ctx context.Context, conn *tablet.Conn, query string) (int64, error) {
	res, err := conn.Execute(ctx, query)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(res.Rows[0][0]), 10, 64)
}

// writeChunk sends each row to the target that owns its keyspace id and
// writes every target's rows, the targets in parallel.
func (wc *workflowCopy) writeChunk(ctx context.Context, conns []*tablet.Conn, ti *tableInfo, fields []*mysql.Field, rows [][][]byte) error {
	byTarget := make([][][][]byte, len(wc.targets))
	for _, row := range rows {
		if ti.vx == nil {
			// An unsharded target keyspace: its one shard.
			byTarget[0] = append(byTarget[0], row)
			continue
		}
		id, err := ti.vx.Map(vindexValue(fields[ti.vcol], row[ti.vcol]))
		if err != nil {
			return permanent(fmt.Errorf("table %q key %v: %w", ti.name, ti.keyOf(row), err))
		}
		i := wc.targetOf(id)
		if i < 0 {
			return permanent(fmt.Errorf("table %q key %v: keyspace id %s is in no target shard: %w", ti.name, ti.keyOf(row), id, ErrInvalid))
		}
		byTarget[i] = append(byTarget[i], row)
	}
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, conn := range conns {
		if len(byTarget[i]) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := writeRows(ctx, conn, ti.name, fields, byTarget[i]); err != nil {
				errs[i] = fmt.Errorf("target %s: table %q: %w", wc.targets[i].name, ti.name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (wc *workflowCopy) targetOf(id vindex.KeyspaceID) int {
	for i, t := range wc.targets {
		if t.kr.Contains(id) {
			return i
		}
	}
	return -1
}

// vindexValue turns a text-protocol value into what a vindex maps:
// integers as int64 or uint64 (so "007" and 7 hash alike, as the
// gateway's), everything else as its bytes.
func vindexValue(f *mysql.Field, v []byte) any {
	if v == nil {
		return nil
	}
	if isInteger(f) {
		if f.Flag&mysql.UNSIGNED_FLAG != 0 {
			if n, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				return n
			}
		} else if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n
		}
	}
	return v
}

// save writes a source shard's progress, if this runner still leads and
// the workflow is still copying.
func (wc *workflowCopy) save(ctx context.Context, shard string, p *topo.CopyProgress) error {
	saved := *p
	err := wc.r.cfg.Store.UpdateWorkflow(ctx, wc.wf.Keyspace, wc.wf.Name, func(w *topo.Workflow) error {
		if w.State != topo.WorkflowCopying {
			return errStopped
		}
		if w.Copy == nil {
			w.Copy = map[string]*topo.CopyProgress{}
		}
		w.Copy[shard] = &saved
		return nil
	}, wc.guard)
	if errors.Is(err, topo.ErrBadVersion) {
		return fmt.Errorf("%w: %v", ErrNotLeader, err)
	}
	if err != nil {
		return err
	}
	if hook := wc.r.cfg.AfterChunk; hook != nil {
		hook(wc.wf.Keyspace, wc.wf.Name, shard, saved)
	}
	return nil
}

// permanentError marks an error that retrying won't fix (the data or the
// vschema must change): the workflow goes to state error.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func permanent(err error) error { return permanentError{err} }
