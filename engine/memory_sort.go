package engine

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// MemorySort orders a whole result in memory by Keys and drops the Trim
// hidden columns at the end: for results made at the gateway (joins,
// unions), where no shard could order them.
type MemorySort struct {
	Input Primitive
	Keys  []OrderKey
	Trim  int
	// CheckPositions: the keys counted from the start are positions the
	// planner could not check (after a * of columns it does not know);
	// one past the visible columns is MySQL's 1054.
	CheckPositions bool
}

var _ Primitive = (*MemorySort)(nil)

// Execute implements Primitive.
func (m *MemorySort) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	r, err := m.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	if len(r.Fields) < m.Trim {
		return nil, errInternal("sort: %d columns, %d hidden", len(r.Fields), m.Trim)
	}
	cols := make([]sortColumn, len(m.Keys))
	for i, k := range m.Keys {
		if m.CheckPositions && k.Col >= len(r.Fields)-m.Trim {
			return nil, sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%d' in 'order clause'", k.Col+1)
		}
		c, err := newSortColumn(r.Fields, k.Col, k.Weight, k.Desc)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	rows := append([][][]byte(nil), r.Rows...)
	sortRows(rows, cols)
	n := len(r.Fields) - m.Trim
	for i := range rows {
		rows[i] = rows[i][:n]
	}
	return &Result{Fields: r.Fields[:n], Rows: rows, Warnings: r.Warnings}, nil
}

// Stream implements Primitive.
func (m *MemorySort) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, m, vc, args, fn)
}

// Inputs implements Primitive.
func (m *MemorySort) Inputs() []Primitive { return []Primitive{m.Input} }

func (m *MemorySort) description() Description {
	keys := describeKeys(m.Keys)
	d := Description{OperatorType: "Sort", Variant: "Memory", Other: map[string]any{"OrderBy": keys}}
	if m.Trim > 0 {
		d.Other["HiddenColumns"] = m.Trim
	}
	return d
}
