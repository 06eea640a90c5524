package engine

// Set operations beyond UNION (INTERSECT, EXCEPT, their ALL forms), as
// MariaDB 10.11 evaluates them: left to right over the inputs of a
// Concatenate with Ops (INTERSECT binds tighter than UNION and EXCEPT; the
// planner nests a run of INTERSECTs into an input of its own). Rows are
// the same when their key is: every visible column by value, or by its
// weight_string for character columns, so 'Bob' and 'bob' meet under a
// case-insensitive collation; NULLs meet NULLs. Of rows that meet, the
// left input's spelling is kept.

// SetOperator is the operator joining an input to the rows of the inputs
// before it.
type SetOperator int

// Set operators.
const (
	SetUnionAll SetOperator = iota
	SetUnion
	SetIntersectAll
	SetIntersect
	SetExceptAll
	SetExcept
)

var setOpNames = [...]string{"UNION ALL", "UNION", "INTERSECT ALL", "INTERSECT", "EXCEPT ALL", "EXCEPT"}

func (o SetOperator) String() string { return setOpNames[o] }

// distinct reports whether the operator's result has no duplicates.
func (o SetOperator) distinct() bool {
	return o == SetUnion || o == SetIntersect || o == SetExcept
}

// keyedRows are rows with their comparison keys.
type keyedRows struct {
	rows [][][]byte
	keys []string
}

// applySetOp combines acc (the rows so far) with the next input's rows.
func applySetOp(op SetOperator, acc, next keyedRows) keyedRows {
	var out keyedRows
	keep := func(i int) {
		out.rows = append(out.rows, acc.rows[i])
		out.keys = append(out.keys, acc.keys[i])
	}
	switch op {
	case SetUnionAll, SetUnion:
		out = keyedRows{rows: append(acc.rows, next.rows...), keys: append(acc.keys, next.keys...)}
	case SetIntersect, SetExcept:
		in := make(map[string]bool, len(next.keys))
		for _, k := range next.keys {
			in[k] = true
		}
		for i, k := range acc.keys {
			if in[k] == (op == SetIntersect) {
				keep(i)
			}
		}
	case SetIntersectAll, SetExceptAll:
		// Each row of next matches one row of acc: INTERSECT ALL keeps
		// min(m, n) copies, EXCEPT ALL max(m-n, 0).
		count := make(map[string]int, len(next.keys))
		for _, k := range next.keys {
			count[k]++
		}
		for i, k := range acc.keys {
			matched := count[k] > 0
			if matched {
				count[k]--
			}
			if matched == (op == SetIntersectAll) {
				keep(i)
			}
		}
	}
	if op.distinct() {
		out = dedupKeyed(out)
	}
	return out
}

// dedupKeyed keeps the first row of each key.
func dedupKeyed(in keyedRows) keyedRows {
	seen := make(map[string]bool, len(in.keys))
	var out keyedRows
	for i, k := range in.keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		out.rows = append(out.rows, in.rows[i])
		out.keys = append(out.keys, k)
	}
	return out
}
