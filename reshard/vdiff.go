package reshard

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// VDiffConfig configures a VDiff.
type VDiffConfig struct {
	Store *topo.Store
	// Conn is how to log in to the primaries; Addr and DB are filled in.
	Conn tablet.ConnConfig
	// Wait bounds how long the catch-up may take to pause and reach the
	// stop position; default one minute.
	Wait time.Duration
	// ChunkRows is how many rows a read fetches at a time; default 10000.
	ChunkRows int
	// MaxDiffs is how many differing keys a table's report lists; default 10.
	MaxDiffs int
	Logger   *slog.Logger
}

// VDiffReport is what a vdiff found.
type VDiffReport struct {
	Keyspace string `json:"keyspace"`
	Workflow string `json:"workflow"`
	// Positions are the source positions both sides were compared at.
	Positions map[string]string `json:"positions"`
	Tables    []TableDiff       `json:"tables"`
	// Clean: no table has a missing, extra or different row.
	Clean   bool    `json:"clean"`
	Seconds float64 `json:"seconds"`
}

// TableDiff is one table's comparison.
type TableDiff struct {
	Table     string `json:"table"`
	Reference bool   `json:"reference,omitempty"`
	// SourceRows and TargetRows count rows per shard.
	SourceRows map[string]int64 `json:"source_rows"`
	TargetRows map[string]int64 `json:"target_rows"`
	// Missing: source rows not on the target owning them; Extra: target
	// rows that are on no source, or on a target that doesn't own them;
	// Different: on the right target, with other values.
	Missing   int64 `json:"missing"`
	Extra     int64 `json:"extra"`
	Different int64 `json:"different"`
	// FirstDiffs describes the first differing rows by primary key.
	FirstDiffs []string `json:"first_diffs,omitempty"`
}

func (d *TableDiff) clean() bool { return d.Missing == 0 && d.Extra == 0 && d.Different == 0 }

func (d *TableDiff) note(maxDiffs int, format string, args ...any) {
	if len(d.FirstDiffs) < maxDiffs {
		d.FirstDiffs = append(d.FirstDiffs, fmt.Sprintf(format, args...))
	}
}

// VDiff compares a workflow's targets with its sources at one position:
// it asks the catch-up (run by the leading controller) to pause, opens a
// consistent snapshot on every source, lets the catch-up apply up to
// exactly those positions, opens a consistent snapshot on every target,
// lets the catch-up go on, and compares the snapshots: every source row
// with the row of the same primary key on the target owning it, every
// target row against the sources. The comparison runs here, not in the
// controller, so that the caller gets the report without a channel back
// and a long comparison doesn't hold the controller; the controller only
// pauses.
//
// Each table is read in primary-key order in chunks; the target side's
// rows are kept as key → hash (MD5 of the row) in memory, so a table
// costs about 60 bytes plus its key per row.
func VDiff(ctx context.Context, cfg VDiffConfig, keyspace, workflow string) (*VDiffReport, error) {
	if cfg.Wait <= 0 {
		cfg.Wait = time.Minute
	}
	if cfg.ChunkRows <= 0 {
		cfg.ChunkRows = 10000
	}
	if cfg.MaxDiffs <= 0 {
		cfg.MaxDiffs = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	began := time.Now()
	w, err := cfg.Store.GetWorkflow(ctx, keyspace, workflow)
	if err != nil {
		return nil, err
	}
	if !catchesUp(w.State) {
		return nil, fmt.Errorf("workflow %s/%s is %s: vdiff compares while catch-up runs (running or reads-switched): %w", keyspace, workflow, w.State, ErrInvalid)
	}
	snap, err := cfg.Store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	wc := &workflowCopy{wf: w, sources: map[string]string{}}
	if err := wc.resolve(snap, w.SourceShards); err != nil {
		return nil, err
	}
	ks := snap.VSchema.Keyspaces[keyspace]
	if ks == nil {
		return nil, fmt.Errorf("keyspace %q: %w", keyspace, ErrInvalid)
	}
	srcLogin := func(addr string) tablet.ConnConfig { return sourceLogin(cfg.Conn, w, addr) }

	id := rand.Text()
	if err := cfg.Store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		if r := w.VDiff; r != nil && time.Since(r.Requested) < vdiffRequestTTL {
			return fmt.Errorf("another vdiff of %s/%s is running (since %s): %w", keyspace, workflow, r.Requested.Format(time.RFC3339), ErrInvalid)
		}
		w.VDiff = &topo.VDiffRequest{ID: id, Requested: time.Now().UTC()}
		return nil
	}); err != nil {
		return nil, err
	}
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err := cfg.Store.UpdateWorkflow(rctx, keyspace, workflow, func(w *topo.Workflow) error {
			if w.VDiff == nil || w.VDiff.ID != id {
				return topo.ErrNoUpdateNeeded
			}
			w.VDiff = nil
			return nil
		})
		if err != nil {
			cfg.Logger.Warn("reshard: vdiff: release the catch-up", "err", err)
		}
	}
	defer release()

	var conns []*tablet.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if _, err := waitVDiff(ctx, cfg, keyspace, workflow, id, func(r *topo.VDiffRequest) map[string]string { return r.Paused }); err != nil {
		return nil, fmt.Errorf("waiting for the catch-up to pause: %w", err)
	}
	srcConns := map[string]*tablet.Conn{}
	stopAt := map[string]string{}
	for _, s := range w.SourceShards {
		login := srcLogin(wc.sources[s])
		c, err := dialSnapshot(ctx, login, login.Addr, login.DB)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s, err)
		}
		conns = append(conns, c)
		if stopAt[s], err = startSnapshot(ctx, c); err != nil {
			return nil, fmt.Errorf("source %s: %w", s, err)
		}
		srcConns[s] = c
	}
	if err := cfg.Store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		if w.VDiff == nil || w.VDiff.ID != id {
			return fmt.Errorf("the vdiff request was removed: %w", ErrInvalid)
		}
		w.VDiff.StopAt = stopAt
		return nil
	}); err != nil {
		return nil, err
	}
	if _, err := waitVDiff(ctx, cfg, keyspace, workflow, id, func(r *topo.VDiffRequest) map[string]string { return r.Reached }); err != nil {
		return nil, fmt.Errorf("waiting for the catch-up to reach %v: %w", stopAt, err)
	}
	tgtConns := make([]*tablet.Conn, len(wc.targets))
	for i, t := range wc.targets {
		c, err := dialSnapshot(ctx, cfg.Conn, t.addr, keyspace)
		if err == nil {
			conns = append(conns, c)
			_, err = c.Execute(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT")
		}
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.name, err)
		}
		tgtConns[i] = c
	}
	release() // the snapshots are taken: catch-up goes on
	cfg.Logger.Info("reshard: vdiff snapshots taken", "workflow", keyspace+"/"+workflow, "positions", stopAt)

	rep := &VDiffReport{Keyspace: keyspace, Workflow: workflow, Positions: stopAt, Clean: true}
	first := srcConns[w.SourceShards[0]]
	split, reference, err := workflowTables(ctx, w, ks, first)
	if err != nil {
		return nil, err
	}
	d := &differ{cfg: cfg, wc: wc, sources: w.SourceShards, srcConns: srcConns, tgtConns: tgtConns}
	for _, name := range split {
		ti, err := describeTable(ctx, first, ks, name)
		if err != nil {
			return nil, err
		}
		td, err := d.splitTable(ctx, ti)
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", name, err)
		}
		rep.Tables = append(rep.Tables, *td)
	}
	for _, name := range reference {
		ti, err := describeColumns(ctx, first, name)
		if err != nil {
			return nil, err
		}
		td, err := d.referenceTable(ctx, ti)
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", name, err)
		}
		rep.Tables = append(rep.Tables, *td)
	}
	for _, td := range rep.Tables {
		rep.Clean = rep.Clean && td.clean()
	}
	rep.Seconds = time.Since(began).Seconds()
	return rep, nil
}

// waitVDiff waits until ack (Paused or Reached) of the request has every
// source shard.
func waitVDiff(ctx context.Context, cfg VDiffConfig, keyspace, workflow, id string, ack func(*topo.VDiffRequest) map[string]string) (map[string]string, error) {
	deadline := time.Now().Add(cfg.Wait)
	for {
		w, err := cfg.Store.GetWorkflow(ctx, keyspace, workflow)
		if err != nil {
			return nil, err
		}
		if !catchesUp(w.State) {
			return nil, fmt.Errorf("workflow is now %s (%s): %w", w.State, w.Error, ErrInvalid)
		}
		if w.VDiff == nil || w.VDiff.ID != id {
			return nil, fmt.Errorf("the vdiff request was removed: %w", ErrInvalid)
		}
		got := ack(w.VDiff)
		done := true
		for _, s := range w.SourceShards {
			if got[s] == "" {
				done = false
			}
		}
		if done {
			return got, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no answer from the catch-up of every source shard in %v (got %v); is a controller running?", cfg.Wait, got)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// dialSnapshot connects for reading in a repeatable-read snapshot.
func dialSnapshot(ctx context.Context, cc tablet.ConnConfig, addr, db string) (*tablet.Conn, error) {
	cc.Addr, cc.DB = addr, db
	c, err := tablet.Dial(ctx, cc)
	if err != nil {
		return nil, err
	}
	if _, err := c.Execute(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// differ compares one workflow's snapshots.
type differ struct {
	cfg      VDiffConfig
	wc       *workflowCopy
	sources  []string
	srcConns map[string]*tablet.Conn
	tgtConns []*tablet.Conn
}

// seen is a target row: which target holds it and its hash.
type seen struct {
	target int
	hash   [md5.Size]byte
}

// splitTable compares a table whose rows are split by keyspace id.
func (d *differ) splitTable(ctx context.Context, ti *tableInfo) (*TableDiff, error) {
	td := &TableDiff{Table: ti.name, SourceRows: map[string]int64{}, TargetRows: map[string]int64{}}
	rows := map[string]seen{}
	for i, c := range d.tgtConns {
		name := d.wc.targets[i].name
		td.TargetRows[name] = 0
		err := d.scan(ctx, c, ti, func(fields []*mysql.Field, row [][]byte) error {
			td.TargetRows[name]++
			owner, err := d.owner(ti, fields, row)
			if err != nil {
				return err
			}
			if owner != i {
				td.Extra++
				td.note(d.cfg.MaxDiffs, "extra on target %s (owned by %s): %s", name, d.wc.targets[owner].name, keyText(ti, row))
				return nil
			}
			rows[keyText(ti, row)] = seen{target: i, hash: rowHash(row)}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
	}
	for _, s := range d.sources {
		td.SourceRows[s] = 0
		err := d.scan(ctx, d.srcConns[s], ti, func(fields []*mysql.Field, row [][]byte) error {
			td.SourceRows[s]++
			owner, err := d.owner(ti, fields, row)
			if err != nil {
				return err
			}
			key := keyText(ti, row)
			got, ok := rows[key]
			switch {
			case !ok:
				td.Missing++
				td.note(d.cfg.MaxDiffs, "missing on target %s: %s", d.wc.targets[owner].name, key)
				return nil
			case got.hash != rowHash(row):
				td.Different++
				td.note(d.cfg.MaxDiffs, "different on target %s: %s", d.wc.targets[owner].name, key)
			}
			delete(rows, key)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s, err)
		}
	}
	d.extra(td, rows)
	return td, nil
}

// owner is the index of the target owning a row of a split table.
func (d *differ) owner(ti *tableInfo, fields []*mysql.Field, row [][]byte) (int, error) {
	if ti.vx == nil {
		return 0, nil // an unsharded target keyspace's one shard
	}
	id, err := ti.vx.Map(vindexValue(fields[ti.vcol], row[ti.vcol]))
	if err != nil {
		return 0, fmt.Errorf("key %s: %w", keyText(ti, row), err)
	}
	owner := d.wc.targetOf(id)
	if owner < 0 {
		return 0, fmt.Errorf("key %s: keyspace id %s is in no target: %w", keyText(ti, row), id, ErrInvalid)
	}
	return owner, nil
}

// referenceTable compares every target's copy of a reference table with
// the first source's.
func (d *differ) referenceTable(ctx context.Context, ti *tableInfo) (*TableDiff, error) {
	td := &TableDiff{Table: ti.name, Reference: true, SourceRows: map[string]int64{}, TargetRows: map[string]int64{}}
	src := d.sources[0]
	want := map[string][md5.Size]byte{}
	err := d.scan(ctx, d.srcConns[src], ti, func(_ []*mysql.Field, row [][]byte) error {
		td.SourceRows[src]++
		want[keyText(ti, row)] = rowHash(row)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", src, err)
	}
	for i, c := range d.tgtConns {
		name := d.wc.targets[i].name
		td.TargetRows[name] = 0
		rows := map[string]seen{}
		err := d.scan(ctx, c, ti, func(_ []*mysql.Field, row [][]byte) error {
			td.TargetRows[name]++
			rows[keyText(ti, row)] = seen{target: i, hash: rowHash(row)}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		for key, h := range want {
			got, ok := rows[key]
			switch {
			case !ok:
				td.Missing++
				td.note(d.cfg.MaxDiffs, "missing on target %s: %s", name, key)
				continue
			case got.hash != h:
				td.Different++
				td.note(d.cfg.MaxDiffs, "different on target %s: %s", name, key)
			}
			delete(rows, key)
		}
		d.extra(td, rows)
	}
	return td, nil
}

// extra counts the target rows no source row matched, first keys in
// target order.
func (d *differ) extra(td *TableDiff, rows map[string]seen) {
	td.Extra += int64(len(rows))
	if len(rows) == 0 {
		return
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		td.note(d.cfg.MaxDiffs, "extra on target %s: %s", d.wc.targets[rows[k].target].name, k)
	}
}

// scan reads a table in primary-key order in chunks.
func (d *differ) scan(ctx context.Context, c *tablet.Conn, ti *tableInfo, fn func([]*mysql.Field, [][]byte) error) error {
	var after []string
	for {
		res, err := c.Execute(ctx, ti.chunkQuery(after, d.cfg.ChunkRows))
		if err != nil {
			return err
		}
		for _, row := range res.Rows {
			if err := fn(res.Fields, row); err != nil {
				return err
			}
		}
		if len(res.Rows) < d.cfg.ChunkRows {
			return nil
		}
		after = ti.keyOf(res.Rows[len(res.Rows)-1])
	}
}

// keyText is a row's primary key as the report shows it: (a,b)=(1,'x').
func keyText(ti *tableInfo, row [][]byte) string {
	var cols, vals []string
	for _, c := range ti.pk {
		cols = append(cols, string(ti.fields[c].Name))
		vals = append(vals, string(appendLiteral(nil, ti.fields[c], row[c])))
	}
	return "(" + strings.Join(cols, ",") + ")=(" + strings.Join(vals, ",") + ")"
}

// rowHash hashes a row's values, each length-prefixed (NULL apart from
// the empty string).
func rowHash(row [][]byte) [md5.Size]byte {
	h := md5.New()
	var n [8]byte
	for _, v := range row {
		if v == nil {
			h.Write([]byte{0xff})
			continue
		}
		l := len(v)
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(v)
	}
	var out [md5.Size]byte
	h.Sum(out[:0])
	return out
}
