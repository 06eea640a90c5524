package engine

import (
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Rollup makes a GroupAggregate answer GROUP BY ... WITH ROLLUP as
// MariaDB does: the groups in the order of their keys (GROUP BY sorts,
// ASC or DESC per key), each run of groups sharing a prefix of the keys
// followed by its super-aggregate row, deepest first, and a grand total
// last. A super-aggregate row aggregates every input row of its prefix
// (the shards' partials are merged once per level, so nothing is
// re-aggregated from rounded results); its rolled-up keys are NULL, and
// its other plain columns are those of the last group before it, as
// MariaDB leaves them. HAVING and DISTINCT then see it like any group.
type Rollup struct {
	// Desc says, per key, that the GROUP BY item sorts descending.
	Desc []bool
	// Nulls lists, per key, the columns that are NULL in the rows that
	// roll that key up: its column, its weight_string, and any other
	// column of the same expression.
	Nulls [][]int
}

// rollupKey is the index of a super-aggregate group: the number of keys
// it keeps, and their group-key bytes.
func rollupKey(level int, key []byte, ends []int) string {
	end := 0
	if level > 0 {
		end = ends[level-1]
	}
	return strconv.Itoa(level) + "/" + string(key[:end])
}

// rollupState collects the super-aggregate groups while the input is
// merged.
type rollupState struct {
	levels map[string]*group
	// keys and ends remember each detail group's key bytes and where
	// each key ends in them.
	keys map[*group]string
	ends map[*group][]int
}

func newRollupState() *rollupState {
	return &rollupState{levels: map[string]*group{}, keys: map[*group]string{}, ends: map[*group][]int{}}
}

// note records a detail group's key the first time it is seen.
func (rs *rollupState) note(gr *group, key []byte, ends []int) {
	if _, ok := rs.keys[gr]; !ok {
		rs.keys[gr] = string(key)
		rs.ends[gr] = slices.Clone(ends)
	}
}

// levelGroups returns the super-aggregate groups an input row with this
// key adds to, one per level (0 is the grand total), creating them.
func (rs *rollupState) levelGroups(row [][]byte, key []byte, ends []int, naggs int) []*group {
	out := make([]*group, len(ends))
	for l := range ends {
		k := rollupKey(l, key, ends)
		gr := rs.levels[k]
		if gr == nil {
			gr = &group{row: slices.Clone(row), aggs: make([]aggState, naggs)}
			rs.levels[k] = gr
		}
		out[l] = gr
	}
	return out
}

// rollupSequence orders the detail groups by their keys and interleaves the
// super-aggregate rows, as MariaDB sends them.
func (g *GroupAggregate) rollupSequence(groups []*group, rs *rollupState, cols []sortColumn) []*group {
	slices.SortStableFunc(groups, func(a, b *group) int { return compareRows(a.row, b.row, cols) })
	keys := make([]string, len(groups))
	ends := make([][]int, len(groups))
	for i, gr := range groups {
		keys[i], ends[i] = rs.keys[gr], rs.ends[gr]
	}
	out := make([]*group, 0, len(groups))
	for _, st := range rollupSteps(keys, ends) {
		gr := groups[st.detail]
		if st.level < 0 {
			out = append(out, gr)
			continue
		}
		sg := rs.levels[rollupKey(st.level, []byte(keys[st.detail]), ends[st.detail])]
		row := slices.Clone(gr.row)
		nullRolledUp(row, g.Rollup.Nulls, st.level)
		out = append(out, &group{row: row, aggs: sg.aggs})
	}
	return out
}

// nullRolledUp sets the columns of the keys from level on to NULL.
func nullRolledUp(row [][]byte, nulls [][]int, level int) {
	for k := level; k < len(nulls); k++ {
		for _, c := range nulls[k] {
			row[c] = nil
		}
	}
}

// rollupStep is one row of a rollup's answer: detail group number
// detail itself (level -1), or the super-aggregate row keeping level keys
// of the prefix detail ends.
type rollupStep struct{ detail, level int }

// rollupSteps lists the rows of a rollup over detail groups sorted by
// their keys (keys: each group's key bytes, ends: where each key ends):
// each group, then, where the next group leaves a prefix, the
// super-aggregate rows of the prefixes it leaves, deepest first; the
// grand total last.
func rollupSteps(keys []string, ends [][]int) []rollupStep {
	var out []rollupStep
	flush := func(last, from, to int) {
		for l := from; l >= to; l-- {
			out = append(out, rollupStep{detail: last, level: l})
		}
	}
	for i := range keys {
		if i > 0 {
			n := len(ends[i-1])
			flush(i-1, n-1, commonKeys(keys[i-1], keys[i], ends[i-1], ends[i])+1)
		}
		out = append(out, rollupStep{detail: i, level: -1})
	}
	if last := len(keys) - 1; last >= 0 {
		flush(last, len(ends[last])-1, 0)
	}
	return out
}

// commonKeys is the number of leading keys two detail groups share.
func commonKeys(ka, kb string, ea, eb []int) int {
	j := 0
	for j < len(ea) && j < len(eb) && ea[j] == eb[j] && ka[:ea[j]] == kb[:eb[j]] {
		j++
	}
	return j
}

// rollupSortColumns are the keys' sort columns in GROUP BY's directions.
func (g *GroupAggregate) rollupSortColumns(fields []*mysql.Field) ([]sortColumn, error) {
	cols := make([]sortColumn, len(g.Keys))
	for i, k := range g.Keys {
		c, err := newSortColumn(fields, k.Col, k.Weight, g.Rollup.Desc[i])
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return cols, nil
}

// describeRollup renders the rollup for VEXPLAIN: the keys in GROUP BY's
// order and direction, each with the columns it makes NULL.
func describeRollup(keys []GroupKey, r *Rollup) []string {
	out := make([]string, 0, len(keys))
	for i, k := range keys {
		s := colRef(k.Col)
		if r.Desc[i] {
			s += " desc"
		}
		var nulls []string
		for _, c := range r.Nulls[i] {
			nulls = append(nulls, colRef(c))
		}
		out = append(out, s+" nulls "+strings.Join(nulls, ", "))
	}
	return out
}
