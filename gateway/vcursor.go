package gateway

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// vcursor is the planner's window on the session and the tablets for one
// statement. Its methods may be called from several goroutines when a plan
// fans out; mu guards the warnings they collect.
type vcursor struct {
	s *session
	r *routing

	mu       sync.Mutex
	warnings []warning

	// budget counts the rows the statement buffers (row_limit.go);
	// buffering says the plan runs with Execute, so even streamed shard
	// rows end up held in memory.
	budget    *rowBudget
	buffering bool
}

var _ planner.VCursor = (*vcursor)(nil)

func (s *session) newVCursor(r *routing) *vcursor {
	return &vcursor{s: s, r: r, budget: newRowBudget(s.srv.cfg.MaxBufferedRows)}
}

// Shards lists the serving shards of a keyspace for the session's tablet type.
func (vc *vcursor) Shards(ctx context.Context, keyspace string) ([]planner.ShardRange, error) {
	return vc.r.shardRanges(keyspace, vc.s.tabletType)
}

// ExecuteMulti runs queries[i] on shards[i]; several shards run in parallel,
// one runs on the calling goroutine.
func (vc *vcursor) ExecuteMulti(ctx context.Context, keyspace string, shards []string, queries []string) ([]*planner.Result, error) {
	results := make([]*planner.Result, len(shards))
	if len(shards) == 1 {
		res, err := vc.executeOne(ctx, keyspace, shards[0], queries[0])
		results[0] = res
		return results, err
	}
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = vc.executeOne(ctx, keyspace, shards[i], queries[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

// StreamMulti streams queries[i] from shards[i]. Calls to fn are serialised;
// the rows handed to fn are the callee's to keep.
func (vc *vcursor) StreamMulti(ctx context.Context, keyspace string, shards []string, queries []string, fn func(int, *planner.Result) error) error {
	if len(shards) == 1 {
		return vc.streamOne(ctx, keyspace, shards[0], queries[0], func(r *planner.Result) error { return fn(0, r) })
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex // serialises fn
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := vc.streamOne(ctx, keyspace, shards[i], queries[i], func(r *planner.Result) error {
				mu.Lock()
				defer mu.Unlock()
				return fn(i, r)
			})
			if err != nil {
				// The first failure is the cause; the others see its cancellation.
				errOnce.Do(func() { firstErr = err })
				cancel()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// conn finds the connection a statement on the shard runs on: the
// transaction's, or a pooled one released by the returned func.
func (vc *vcursor) conn(ctx context.Context, keyspace, shard string) (*shardConn, func(), error) {
	s := vc.s
	typ := s.tabletType
	pool, err := vc.r.pool(keyspace, shard, typ, s.nextPick())
	if err != nil {
		return nil, nil, err
	}
	if typ == topo.TabletPrimary && s.tx != nil {
		sc, err := s.tx.join(ctx, shardKey{keyspace, shard}, pool, &s.settings)
		return sc, func() {}, err
	}
	sc, err := acquire(ctx, pool, &s.settings)
	if err != nil {
		return nil, nil, err
	}
	return sc, func() { sc.release(context.Background()) }, nil
}

func (vc *vcursor) executeOne(ctx context.Context, keyspace, shard, query string) (*planner.Result, error) {
	sc, release, err := vc.conn(ctx, keyspace, shard)
	if err != nil {
		return nil, err
	}
	defer release()
	// Streamed and counted, so a result over the row budget stops early
	// instead of being read whole.
	var rows [][][]byte
	res, err := sc.conn.Stream(ctx, query, nil, func(row [][]byte) error {
		if err := vc.budget.take(1); err != nil {
			return err
		}
		rows = append(rows, copyRow(row))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res.Warnings > 0 {
		vc.collectWarnings(ctx, sc.conn)
	}
	return &planner.Result{
		Fields:       res.Fields,
		Rows:         rows,
		RowsAffected: res.RowsAffected,
		InsertID:     res.InsertID,
		Warnings:     res.Warnings,
	}, nil
}

func (vc *vcursor) streamOne(ctx context.Context, keyspace, shard, query string, fn func(*planner.Result) error) error {
	sc, release, err := vc.conn(ctx, keyspace, shard)
	if err != nil {
		return err
	}
	defer release()
	batch := &planner.Result{Rows: make([][][]byte, 1)}
	res, err := sc.conn.Stream(ctx, query,
		func(fields []*mysql.Field) error {
			return fn(&planner.Result{Fields: fields})
		},
		func(row [][]byte) error {
			if vc.buffering {
				if err := vc.budget.take(1); err != nil {
					return err
				}
			}
			batch.Rows[0] = copyRow(row)
			return fn(batch)
		})
	if err != nil {
		return err
	}
	if res != nil && res.Warnings > 0 {
		vc.collectWarnings(ctx, sc.conn)
	}
	return nil
}

// copyRow detaches a streamed row from the connection's read buffer.
func copyRow(row [][]byte) [][]byte {
	n := 0
	for _, v := range row {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(row))
	for i, v := range row {
		if v != nil {
			start := len(buf)
			buf = append(buf, v...)
			out[i] = buf[start:len(buf):len(buf)]
		}
	}
	return out
}

// collectWarnings reads the warnings of the statement just run on conn, so
// SHOW WARNINGS through the gateway shows them.
func (vc *vcursor) collectWarnings(ctx context.Context, conn *tablet.Conn) {
	res, err := conn.Execute(ctx, "SHOW WARNINGS")
	if err != nil {
		return
	}
	vc.mu.Lock()
	defer vc.mu.Unlock()
	for _, row := range res.Rows {
		if len(row) < 3 {
			continue
		}
		code, _ := strconv.ParseUint(string(row[1]), 10, 16)
		vc.warnings = append(vc.warnings, warning{level: string(row[0]), code: uint16(code), message: string(row[2])})
	}
}

// AddWarning records a warning of the gateway's own.
func (vc *vcursor) AddWarning(code uint16, msg string) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	vc.warnings = append(vc.warnings, warning{level: "Warning", code: code, message: msg})
}

// flushWarnings moves the statement's warnings to the session.
func (vc *vcursor) flushWarnings() {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	vc.s.warnings = append(vc.s.warnings, vc.warnings...)
	vc.warnings = nil
}

// AutoAddTable adds a table created through the gateway to its sharded
// keyspace's vschema, with the default vindex on column, and waits until
// this gateway routes with it.
func (vc *vcursor) AutoAddTable(ctx context.Context, keyspace, table, column string) (string, error) {
	typ := vc.s.srv.cfg.DefaultVindexType
	var vindexName string
	err := vc.s.srv.cfg.Topo.UpdateVSchema(ctx, keyspace, func(k *vschema.Keyspace) error {
		if t := k.Tables[table]; t != nil {
			if len(t.ColumnVindexes) > 0 {
				vindexName = t.ColumnVindexes[0].Name
			}
			return nil
		}
		vindexName = ""
		for name, v := range k.Vindexes {
			if v.Type == typ && (vindexName == "" || name < vindexName) {
				vindexName = name
			}
		}
		if vindexName == "" {
			vindexName = typ
			if k.Vindexes == nil {
				k.Vindexes = map[string]*vschema.VindexDef{}
			}
			k.Vindexes[vindexName] = &vschema.VindexDef{Type: typ}
		}
		if k.Tables == nil {
			k.Tables = map[string]*vschema.Table{}
		}
		k.Tables[table] = &vschema.Table{ColumnVindexes: []*vschema.ColumnVindex{{Column: column, Name: vindexName}}}
		return nil
	})
	if err != nil {
		return "", err
	}
	return vindexName, vc.s.srv.topo.waitForTable(ctx, keyspace, table, 5*time.Second)
}

// nextPick spreads replica reads over a shard's replicas.
func (s *session) nextPick() uint32 {
	if s.tabletType == topo.TabletPrimary {
		return 0
	}
	return s.srv.replicaPick.Add(1)
}

// waitForTable waits until the routing knows the table, so the statement
// after a CREATE TABLE can use it.
func (t *topology) waitForTable(ctx context.Context, keyspace, table string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		r := t.current.Load()
		if r.snap != nil && r.snap.VSchema != nil {
			if ks := r.snap.VSchema.Keyspaces[keyspace]; ks != nil && ks.Tables[table] != nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gateway: vschema change for %s.%s not seen within %s", keyspace, table, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

var _ planner.ShardStreamer = (*vcursor)(nil)

// StreamShard streams one shard's query; MergeSort calls it from one
// goroutine per shard. The rows handed to fn are the callee's to keep.
func (vc *vcursor) StreamShard(ctx context.Context, keyspace, shard, query string, fn func(*planner.Result) error) error {
	return vc.streamOne(ctx, keyspace, shard, query, fn)
}
