package engine

import (
	"context"
	"strconv"
)

// AutoIncrement fills a sharded table's auto-increment column from its
// sequence (a table in an unsharded keyspace), as Vitess does: rows that
// omit the column, or give NULL or 0, get the next ids, one block of
// consecutive ids per statement so LAST_INSERT_ID() and JDBC's generated
// keys (first id + i) hold.
type AutoIncrement struct {
	Column      string
	SeqKeyspace string
	SeqTable    string
	// Slots has one entry per row: the argument that holds the row's
	// column value. An argument at or past GenBase is a slot the planner
	// added for a row that omitted the column or gave NULL/0 as a
	// literal; one below is the client's own `?`, generated only when it
	// is NULL or 0 at execution.
	Slots   []int
	GenBase int
}

// fill returns args extended with the generated ids, and the first id
// generated (0 if none was).
func (a *AutoIncrement) fill(ctx context.Context, vc VCursor, args []any) ([]any, uint64, error) {
	need := 0
	for _, s := range a.Slots {
		if a.generates(s, args) {
			need++
		}
	}
	if need == 0 {
		return args, 0, nil
	}
	first, err := vc.NextSequenceValues(ctx, a.SeqKeyspace, a.SeqTable, int64(need))
	if err != nil {
		return nil, 0, err
	}
	out := make([]any, a.GenBase+len(a.Slots))
	copy(out, args)
	next := first
	for _, s := range a.Slots {
		if a.generates(s, args) {
			out[s] = next
			next++
		}
	}
	return out, uint64(first), nil
}

// generates says whether the row whose slot is s gets a generated id.
func (a *AutoIncrement) generates(s int, args []any) bool {
	return s >= a.GenBase || s >= 0 && IsNullOrZero(args[s])
}

// IsNullOrZero says whether an auto-increment column given v gets a
// generated id, as MySQL does for NULL and 0.
func IsNullOrZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case int64:
		return x == 0
	case uint64:
		return x == 0
	case float64:
		return x == 0
	case []byte:
		n, err := strconv.ParseFloat(string(x), 64)
		return err == nil && n == 0
	case string:
		n, err := strconv.ParseFloat(x, 64)
		return err == nil && n == 0
	}
	return false
}
