package engine

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// RANGE frames with offsets (`RANGE BETWEEN 1.5 PRECEDING AND 2
// FOLLOWING`), as MariaDB 10.11 computes them: the window has one ORDER
// BY key, a number (the shards refuse anything else with 4019 or 4021, as
// they compute the same window); a bound is the first or last row whose
// key is within the offset of the current row's, in the window's order
// (PRECEDING is larger values when the order is DESC). NULL keys sort
// first ascending, last descending, and are below every number: a frame
// ending n PRECEDING includes them ascending; a NULL current row's offset
// bounds are its peers (the NULL rows), as MariaDB's frame cursors give.
// DECIMAL and integer keys are exact (the bound x - n computed as a
// decimal); DOUBLE keys use float arithmetic, as MariaDB does.

// rangeFrame is a RANGE frame's offsets and each row's key.
type rangeFrame struct {
	desc             bool
	float            bool
	startOff, endOff rangeNum
	keys             []rangeNum // per input row
}

type rangeNum struct {
	null bool
	r    *big.Rat
	f    float64
}

func (a rangeNum) cmp(b rangeNum, float bool) int {
	if float {
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	}
	return a.r.Cmp(b.r)
}

func (a rangeNum) add(b rangeNum, sign int, float bool) rangeNum {
	if float {
		return rangeNum{f: a.f + float64(sign)*b.f}
	}
	out := new(big.Rat)
	if sign > 0 {
		out.Add(a.r, b.r)
	} else {
		out.Sub(a.r, b.r)
	}
	return rangeNum{r: out}
}

// hasRangeOffset reports whether fr is a RANGE frame with an offset bound.
func hasRangeOffset(fr *WindowFrame) bool {
	if fr == nil || fr.Rows {
		return false
	}
	off := func(b FrameBound) bool { return b.Kind == BoundPreceding || b.Kind == BoundFollowing }
	return off(fr.Start) || off(fr.End)
}

// newRangeFrame reads the offsets and the ORDER BY key of every row.
func newRangeFrame(f *WindowFunc, fields []*mysql.Field, rows [][][]byte, args []any) (*rangeFrame, error) {
	if len(f.Order) != 1 {
		return nil, errInternal("RANGE frame with an offset over %d ORDER BY keys", len(f.Order))
	}
	col := resolveColumn(f.Order[0].Col, len(fields))
	if col < 0 || col >= len(fields) {
		return nil, errInternal("window column %d out of range: %d columns", f.Order[0].Col, len(fields))
	}
	rf := &rangeFrame{desc: f.Order[0].Desc}
	switch sortKindOf(fields[col]) {
	case sortDecimal:
	case sortFloat:
		rf.float = true
	default:
		return nil, errInternal("RANGE frame with an offset over the non-numeric column %s", fields[col].Name)
	}
	var err error
	if rf.startOff, err = rf.offset(f.Frame.Start, args); err != nil {
		return nil, err
	}
	if rf.endOff, err = rf.offset(f.Frame.End, args); err != nil {
		return nil, err
	}
	rf.keys = make([]rangeNum, len(rows))
	for i, r := range rows {
		if rf.keys[i], err = rf.parse(r[col]); err != nil {
			return nil, err
		}
	}
	return rf, nil
}

func (rf *rangeFrame) parse(v []byte) (rangeNum, error) {
	if v == nil {
		return rangeNum{null: true}, nil
	}
	if rf.float {
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return rangeNum{}, errInternal("window RANGE key %q is not a number", v)
		}
		return rangeNum{f: x}, nil
	}
	r, ok := new(big.Rat).SetString(string(v))
	if !ok {
		return rangeNum{}, errInternal("window RANGE key %q is not a number", v)
	}
	return rangeNum{r: r}, nil
}

// offset reads a bound's n (a literal or a ? argument; not negative).
func (rf *rangeFrame) offset(b FrameBound, args []any) (rangeNum, error) {
	if b.Kind != BoundPreceding && b.Kind != BoundFollowing {
		return rangeNum{}, nil
	}
	var text string
	v := b.N
	if v.Param >= 0 {
		val, _, err := v.resolve(args)
		if err != nil {
			return rangeNum{}, err
		}
		switch x := val.(type) {
		case []byte:
			text = string(x)
		case nil:
			return rangeNum{}, errWrongArgs2("the window frame")
		default:
			text = fmt.Sprint(x)
		}
	} else {
		text = v.SQL
	}
	n, err := rf.parse([]byte(text))
	if err != nil || (rf.float && n.f < 0) || (!rf.float && n.r.Sign() < 0) {
		return rangeNum{}, errWrongArgs2("the window frame")
	}
	return n, nil
}

// bounds returns position i's frame ends in partition p for the offset
// bounds (the others are left to the caller: ok false).
func (rf *rangeFrame) bound(p *windowPartition, i int, b FrameBound, start bool) int {
	cur := rf.keys[p.idx[i]]
	if cur.null {
		if start {
			return p.peerStart[i]
		}
		return p.peerEnd[i]
	}
	off := rf.startOff
	if !start {
		off = rf.endOff
	}
	// The target in ascending terms: PRECEDING is smaller values, or
	// larger ones when the window orders DESC.
	sign := -1
	if b.Kind == BoundFollowing {
		sign = 1
	}
	if rf.desc {
		sign = -sign
	}
	t := cur.add(off, sign, rf.float)
	m := len(p.idx)
	if start {
		// The first row not before t.
		return sort.Search(m, func(j int) bool {
			k := rf.keys[p.idx[j]]
			if rf.desc {
				return k.null || k.cmp(t, rf.float) <= 0
			}
			return !k.null && k.cmp(t, rf.float) >= 0
		})
	}
	// The last row not after t.
	return sort.Search(m, func(j int) bool {
		k := rf.keys[p.idx[j]]
		if rf.desc {
			return k.null || k.cmp(t, rf.float) < 0
		}
		return !k.null && k.cmp(t, rf.float) > 0
	}) - 1
}
