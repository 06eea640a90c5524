package engine

import (
	"slices"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// rowsRollup collects AggregateRows' super-aggregate groups (Rollup) while
// the input is grouped: each input row is added to its group and to one
// group per level of the keys' prefixes.
type rowsRollup struct {
	rollup *Rollup
	cols   []sortColumn
	levels map[string]*rowsGroup
	keys   map[*rowsGroup]string
	ends   map[*rowsGroup][]int
}

func (a *AggregateRows) newRowsRollup(fields []*mysql.Field) (*rowsRollup, error) {
	r := a.Rollup
	if len(r.Desc) != len(a.Keys) || len(r.Nulls) != len(a.Keys) {
		return nil, errInternal("aggregate rows: rollup of %d keys describes %d", len(a.Keys), len(r.Desc))
	}
	for _, cols := range r.Nulls {
		for _, c := range cols {
			if c < 0 || c >= len(a.Columns) {
				return nil, errInternal("aggregate rows: rollup column out of range")
			}
		}
	}
	cols := make([]sortColumn, len(a.Keys))
	for i, k := range a.Keys {
		c, err := newSortColumn(fields, k.Col, k.Weight, r.Desc[i])
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return &rowsRollup{rollup: r, cols: cols, levels: map[string]*rowsGroup{}, keys: map[*rowsGroup]string{}, ends: map[*rowsGroup][]int{}}, nil
}

// levelGroups notes group gr's key and returns the super-aggregate groups
// an input row of it adds to, creating them (each held counts against
// the row budget, like a group).
func (rr *rowsRollup) levelGroups(gr *rowsGroup, row [][]byte, key []byte, ends []int, ncols int, held *rowCounter) ([]*rowsGroup, error) {
	if _, ok := rr.keys[gr]; !ok {
		rr.keys[gr], rr.ends[gr] = string(key), slices.Clone(ends)
	}
	out := make([]*rowsGroup, len(ends))
	for l := range ends {
		k := rollupKey(l, key, ends)
		lg := rr.levels[k]
		if lg == nil {
			lg = &rowsGroup{first: row, aggs: make([]aggState, ncols)}
			rr.levels[k] = lg
			if err := held.add(); err != nil {
				return nil, err
			}
		}
		out[l] = lg
	}
	return out, nil
}

// sequence orders the groups by their keys and interleaves the
// super-aggregate rows (rollupSteps); a super-aggregate row reads its
// plain columns from the last group before it, as MariaDB's does.
func (rr *rowsRollup) sequence(groups []*rowsGroup) []*rowsGroup {
	slices.SortStableFunc(groups, func(a, b *rowsGroup) int { return compareRows(a.first, b.first, rr.cols) })
	keys := make([]string, len(groups))
	ends := make([][]int, len(groups))
	for i, gr := range groups {
		keys[i], ends[i] = rr.keys[gr], rr.ends[gr]
	}
	out := make([]*rowsGroup, 0, len(groups))
	for _, st := range rollupSteps(keys, ends) {
		gr := groups[st.detail]
		if st.level < 0 {
			out = append(out, gr)
			continue
		}
		lg := rr.levels[rollupKey(st.level, []byte(keys[st.detail]), ends[st.detail])]
		out = append(out, &rowsGroup{first: gr.first, aggs: lg.aggs, rollup: st.level + 1})
	}
	return out
}
