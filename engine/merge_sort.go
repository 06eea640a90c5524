package engine

import (
	"context"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// OrderKey is one ORDER BY term of a merge: the column holding the value
// and, for character columns, the column holding its weight_string.
// Negative indices count from the end of the row (hidden columns appended
// after a `*`); Weight is NoWeight when none was pushed.
type OrderKey struct {
	Col    int
	Weight int
	Desc   bool
}

// MergeSort merges the per-shard results of a Route whose query is ordered
// by Keys into one ordered result, then drops the Trim hidden columns at
// the end of each row.
type MergeSort struct {
	Input *Route
	Keys  []OrderKey
	Trim  int
}

var _ Primitive = (*MergeSort)(nil)

func (m *MergeSort) sortColumns(fields []*mysql.Field) ([]sortColumn, error) {
	cols := make([]sortColumn, len(m.Keys))
	for i, k := range m.Keys {
		c, err := newSortColumn(fields, k.Col, k.Weight, k.Desc)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return cols, nil
}

func (m *MergeSort) trimFields(fs []*mysql.Field) []*mysql.Field {
	if m.Trim > 0 && len(fs) >= m.Trim {
		return fs[:len(fs)-m.Trim]
	}
	return fs
}

func (m *MergeSort) trimRow(r [][]byte) [][]byte {
	if m.Trim > 0 && len(r) >= m.Trim {
		return r[:len(r)-m.Trim]
	}
	return r
}

// Execute implements Primitive.
func (m *MergeSort) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	var out *Result
	err := m.Stream(ctx, vc, args, func(r *Result) error {
		if out == nil {
			out = &Result{Fields: r.Fields}
			return nil
		}
		out.Rows = append(out.Rows, r.Rows...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = &Result{}
	}
	return out, nil
}

// Stream implements Primitive. Each shard's rows arrive in order; a row is
// sent on as soon as every shard has a row queued, so the buffer holds
// what the fastest shards are ahead by, not the whole result.
func (m *MergeSort) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	if ss, ok := vc.(ShardStreamer); ok {
		// One reader per shard with a bounded buffer (merge_stream.go).
		return m.streamMerged(ctx, vc, ss, args, fn)
	}
	var (
		cols   []sortColumn
		queues [][][][]byte
		heads  []int
		sent   bool
	)
	// emit sends rows while every shard has one queued (or all, at the end).
	emit := func(final bool) error {
		var batch [][][]byte
		for {
			best := -1
			for i := range queues {
				if heads[i] == len(queues[i]) {
					if !final {
						best = -2
						break
					}
					continue
				}
				if best < 0 || compareRows(queues[i][heads[i]], queues[best][heads[best]], cols) < 0 {
					best = i
				}
			}
			if best < 0 {
				break
			}
			batch = append(batch, m.trimRow(queues[best][heads[best]]))
			queues[best][heads[best]] = nil
			heads[best]++
			if heads[best] == len(queues[best]) {
				queues[best], heads[best] = queues[best][:0], 0
			}
		}
		if len(batch) == 0 {
			return nil
		}
		return fn(&Result{Rows: batch})
	}
	start := func(n int) {
		queues = make([][][][]byte, n)
		heads = make([]int, n)
	}
	err := m.Input.streamShards(ctx, vc, args, start, func(shard int, r *Result) error {
		if r.Fields != nil && !sent {
			c, err := m.sortColumns(r.Fields)
			if err != nil {
				return err
			}
			cols, sent = c, true
			if err := fn(&Result{Fields: m.trimFields(r.Fields)}); err != nil {
				return err
			}
		}
		if len(r.Rows) == 0 {
			return nil
		}
		if !sent {
			return errInternal("shard sent rows before fields")
		}
		if shard < 0 || shard >= len(queues) {
			return errInternal("merge: result from shard %d of %d", shard, len(queues))
		}
		queues[shard] = append(queues[shard], r.Rows...)
		return emit(false)
	})
	if err != nil {
		return err
	}
	if !sent {
		return nil
	}
	return emit(true)
}

// Inputs implements Primitive.
func (m *MergeSort) Inputs() []Primitive { return []Primitive{m.Input} }

func (m *MergeSort) description() Description {
	keys := describeKeys(m.Keys)
	d := Description{OperatorType: "MergeSort", Other: map[string]any{"OrderBy": keys}}
	if m.Trim > 0 {
		d.Other["HiddenColumns"] = m.Trim
	}
	return d
}

// colRef shows a column index: "0", or "-1" for the last column.
func colRef(i int) string { return strconv.Itoa(i) }

// describeKeys renders sort keys for plan descriptions: "#0 weight_string #2 DESC".
func describeKeys(keys []OrderKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		s := colRef(k.Col)
		if k.Weight != NoWeight {
			s += " weight_string " + colRef(k.Weight)
		}
		if k.Desc {
			s += " DESC"
		} else {
			s += " ASC"
		}
		out[i] = s
	}
	return out
}
