package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// GROUP_CONCAT across shards. The shards group by the concatenated
// arguments (byte for byte, so 'Bob' and 'bob' stay apart) and by the
// GROUP_CONCAT's ORDER BY operands, and count each combination; the
// gateway collects a group's elements from every shard, orders them,
// repeats each as often as it occurred and joins them with the separator.

// GroupConcat describes an AggrGroupConcat column.
type GroupConcat struct {
	// Elem is the column of the element's text (the arguments
	// concatenated); Times the column counting its rows, or -1 for
	// GROUP_CONCAT(DISTINCT ...), whose elements are told apart by Keys.
	Elem, Times int
	Keys        []GroupKey
	// Order is the GROUP_CONCAT's ORDER BY.
	Order     []OrderKey
	Separator string
}

// AggrGroupConcat is GROUP_CONCAT: see GroupConcat.
const AggrGroupConcat = AggrAvgDistinct + 1

// concatElem is one element of a group and how many rows had it.
type concatElem struct {
	row   [][]byte
	times uint64
}

func (g *GroupAggregate) addConcat(st *aggState, a GroupAggregateColumn, row [][]byte, kinds []sortKind, pads []bool) error {
	c := a.Concat
	if row[c.Elem] == nil {
		return nil
	}
	times := uint64(1)
	if c.Times >= 0 {
		n, err := strconv.ParseUint(string(row[c.Times]), 10, 64)
		if err != nil {
			return errInternal("group_concat: count %q is not a number", row[c.Times])
		}
		times = n
	} else {
		var k []byte
		for _, key := range c.Keys {
			var err error
			if k, err = appendGroupKey(k, row, key, kinds, pads); err != nil {
				return err
			}
		}
		if st.set == nil {
			st.set = map[string][]byte{}
		}
		if _, seen := st.set[string(k)]; seen {
			return nil
		}
		st.set[string(k)] = nil
	}
	st.elems = append(st.elems, concatElem{row: row, times: times})
	return nil
}

// concatCount is how many elements a GROUP_CONCAT joined, the one that
// made it too long included, and whether it was cut.
type concatCount struct {
	joined int
	cut    bool
}

// finishConcat joins a group's elements, cut at maxLen bytes (the
// session's group_concat_max_len) without splitting a character.
func finishConcat(st *aggState, c *GroupConcat, fields []*mysql.Field, maxLen uint64) (out []byte, n concatCount, err error) {
	if len(st.elems) == 0 {
		return nil, n, nil
	}
	if len(c.Order) > 0 {
		cols := make([]sortColumn, len(c.Order))
		for i, k := range c.Order {
			sc, err := newSortColumn(fields, k.Col, k.Weight, k.Desc)
			if err != nil {
				return nil, n, err
			}
			cols[i] = sc
		}
		slices.SortStableFunc(st.elems, func(x, y concatElem) int { return compareRows(x.row, y.row, cols) })
	}
	out = []byte{}
	for _, e := range st.elems {
		for i := uint64(0); i < e.times; i++ {
			if n.joined > 0 {
				out = append(out, c.Separator...)
			}
			n.joined++
			out = append(out, e.row[c.Elem]...)
			if uint64(len(out)) > maxLen {
				n.cut = true
				return cutUTF8(out, int(maxLen)), n, nil
			}
		}
	}
	return out, n, nil
}

// concatWarningRows are the row numbers of MySQL's warnings 1260 for the
// result's groups in order: each GROUP_CONCAT counts the elements it has
// joined over all groups so far (Item_func_group_concat's row_count,
// never reset between groups) and a cut names that count.
func concatWarningRows(groups []*group) []int {
	var rows []int
	var joined []int
	for _, gr := range groups {
		for i, n := range gr.concats {
			if i == len(joined) {
				joined = append(joined, 0)
			}
			joined[i] += n.joined
			if n.cut {
				rows = append(rows, joined[i])
			}
		}
	}
	return rows
}

// cutUTF8 cuts b to at most n bytes without splitting a character.
func cutUTF8(b []byte, n int) []byte {
	b = b[:n]
	start := len(b) - 1
	for start > 0 && len(b)-start < utf8.UTFMax && b[start]&0xC0 == 0x80 {
		start--
	}
	if start >= 0 && b[start] >= utf8.RuneSelf && !utf8.FullRune(b[start:]) {
		return b[:start]
	}
	return b
}

// concatWarnings reports the GROUP_CONCATs that were cut, as MySQL does
// (ER_CUT_VALUE_GROUP_CONCAT, naming concatWarningRows' counts).
func concatWarnings(vc VCursor, rows []int) {
	for _, r := range rows {
		vc.AddWarning(mysql.ER_CUT_VALUE_GROUP_CONCAT, fmt.Sprintf("Row %d was cut by GROUP_CONCAT()", r))
	}
}

func describeConcat(c *GroupConcat) string {
	s := colRef(c.Elem)
	if c.Times >= 0 {
		s += " times " + colRef(c.Times)
	} else {
		s += " distinct"
		for _, k := range c.Keys {
			s += " " + colRef(k.Col)
		}
	}
	if len(c.Order) > 0 {
		s += " order by " + strings.Join(describeKeys(c.Order), ", ")
	}
	return s + " separator " + strconv.Quote(c.Separator)
}
