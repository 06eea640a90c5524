package engine

import (
	"context"
	"errors"
	"sync"
)

// ShardStreamer is implemented by a VCursor that can stream one shard's
// query at a time and be called from several goroutines at once (fn is
// called from the calling goroutine only, in row order). MergeSort uses it
// to merge the shards' sorted streams with bounded buffers: each shard is
// read by its own goroutine, which waits while its buffer is full, so a
// fast shard never runs ahead of a slow one by more than a few batches,
// and a shard that has finished no longer holds the others back.
type ShardStreamer interface {
	// BeginShards is called once, before any shard's stream starts, with
	// every shard the merge reads, so the VCursor can apply its rules for
	// a statement that spans shards (a transaction's mode and isolation);
	// the func it returns is called with the merge's outcome.
	BeginShards(ctx context.Context, keyspace string, shards []string) (func(error) error, error)
	StreamShard(ctx context.Context, keyspace, shard, query string, fn func(*Result) error) error
}

// Bounds of the merge's per-shard buffer: rows per batch, batches queued.
const (
	mergeBatchRows = 64
	mergeQueued    = 4
	mergeOutRows   = 256
)

// shardBatch is what a shard's reader hands to the merge: the fields
// (first), then batches of rows; err ends the shard with a failure.
type shardBatch struct {
	fields *Result
	rows   [][][]byte
	err    error
}

// errMergeDone stops the shard readers once the merge has returned.
var errMergeDone = errors.New("engine: merge finished")

// streamMerged is Stream for a VCursor that is a ShardStreamer.
func (m *MergeSort) streamMerged(ctx context.Context, vc VCursor, ss ShardStreamer, args []any, fn func(*Result) error) (err error) {
	d, err := m.Input.resolve(ctx, vc, args)
	if err != nil {
		return err
	}
	qs, err := m.Input.queries(d, args)
	if err != nil {
		return err
	}
	if len(d.shards) == 0 {
		return nil
	}
	finish, err := ss.BeginShards(ctx, m.Input.Keyspace, d.shards)
	if err != nil {
		return err
	}
	// Runs after the readers below have stopped (defers run last first).
	defer func() { err = finish(err) }()
	ctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel(errMergeDone)
		wg.Wait()
	}()
	chans := make([]chan shardBatch, len(d.shards))
	for i := range d.shards {
		chans[i] = make(chan shardBatch, mergeQueued)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(chans[i])
			m.readShard(ctx, ss, d.shards[i], qs[i], chans[i])
		}()
	}

	var (
		cols  []sortColumn
		sent  bool
		heads = make([][][][]byte, len(chans)) // each shard's current batch
		done  = make([]bool, len(chans))
		out   [][][]byte
	)
	// fill makes sure shard i has a row at heads[i][0] or is done.
	fill := func(i int) error {
		for !done[i] && len(heads[i]) == 0 {
			b, ok := <-chans[i]
			switch {
			case !ok:
				done[i] = true
			case b.err != nil:
				return b.err
			case b.fields != nil:
				if sent {
					continue
				}
				c, err := m.sortColumns(b.fields.Fields)
				if err != nil {
					return err
				}
				cols, sent = c, true
				if err := fn(&Result{Fields: m.trimFields(b.fields.Fields)}); err != nil {
					return err
				}
			default:
				heads[i] = b.rows
			}
		}
		return nil
	}
	for i := range chans {
		if err := fill(i); err != nil {
			return err
		}
	}
	for {
		best := -1
		for i := range heads {
			if len(heads[i]) == 0 {
				continue
			}
			if best < 0 || compareRows(heads[i][0], heads[best][0], cols) < 0 {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out = append(out, m.trimRow(heads[best][0]))
		heads[best][0] = nil
		heads[best] = heads[best][1:]
		if len(out) == mergeOutRows {
			if err := fn(&Result{Rows: out}); err != nil {
				return err
			}
			out = nil
		}
		if err := fill(best); err != nil {
			return err
		}
	}
	if len(out) > 0 {
		return fn(&Result{Rows: out})
	}
	return nil
}

// readShard streams one shard into ch in batches, waiting while ch is
// full; it gives up when ctx ends (the merge returned or failed).
func (m *MergeSort) readShard(ctx context.Context, ss ShardStreamer, shard, query string, ch chan<- shardBatch) {
	send := func(b shardBatch) error {
		select {
		case ch <- b:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	var batch [][][]byte
	err := ss.StreamShard(ctx, m.Input.Keyspace, shard, query, func(r *Result) error {
		if r.Fields != nil {
			if err := send(shardBatch{fields: &Result{Fields: r.Fields}}); err != nil {
				return err
			}
		}
		for _, row := range r.Rows {
			if batch == nil {
				batch = make([][][]byte, 0, mergeBatchRows)
			}
			batch = append(batch, row)
			if len(batch) == mergeBatchRows {
				if err := send(shardBatch{rows: batch}); err != nil {
					return err
				}
				batch = nil
			}
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = send(shardBatch{rows: batch})
	}
	if err != nil && !errors.Is(context.Cause(ctx), errMergeDone) {
		_ = send(shardBatch{err: err})
	}
}
