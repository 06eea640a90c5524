package engine

import (
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Computing one window function over all rows, as MySQL defines it: rows
// are ordered by PARTITION BY then the window's ORDER BY (stable, so peers
// keep their input order, which MySQL leaves undefined too), each
// partition is computed on its own, and "peers" are rows equal on the
// window's ORDER BY (every row of the partition without one).

// windowPartition is one partition in window order: rows[idx[i]] is its
// i-th row; peerStart/peerEnd bound each row's peer group (inclusive).
type windowPartition struct {
	idx                []int
	peerStart, peerEnd []int
}

// computeWindow returns the function's value for every row (in input
// order) and, when it has an argument weight column, the weight of each
// value.
func computeWindow(f *WindowFunc, fields []*mysql.Field, rows [][][]byte, args []any, sorted map[string][]int) (vals, weights [][]byte, err error) {
	partCols, err := sortColumnsOf(fields, f.Partition)
	if err != nil {
		return nil, nil, err
	}
	orderCols, err := sortColumnsOf(fields, f.Order)
	if err != nil {
		return nil, nil, err
	}
	// Functions over the same window share one sort.
	key := strings.Join(describeKeys(f.Partition), ",") + "|" + strings.Join(describeKeys(f.Order), ",")
	idx, ok := sorted[key]
	if !ok {
		all := append(slices.Clip(partCols), orderCols...)
		idx = make([]int, len(rows))
		for i := range idx {
			idx[i] = i
		}
		// Ties keep the input order (a stable sort, faster as pdqsort with
		// the row index as the last key).
		slices.SortFunc(idx, func(a, b int) int {
			if r := compareRows(rows[a], rows[b], all); r != 0 {
				return r
			}
			return a - b
		})
		sorted[key] = idx
	}

	c, err := newWindowComputer(f, fields, rows, args)
	if err != nil {
		return nil, nil, err
	}
	for start := 0; start < len(idx); {
		end := start + 1
		for end < len(idx) && compareRows(rows[idx[start]], rows[idx[end]], partCols) == 0 {
			end++
		}
		p := windowPartition{idx: idx[start:end]}
		p.peers(rows, orderCols)
		if err := c.partition(&p); err != nil {
			return nil, nil, err
		}
		start = end
	}
	return c.vals, c.weights, nil
}

func sortColumnsOf(fields []*mysql.Field, keys []OrderKey) ([]sortColumn, error) {
	cols := make([]sortColumn, len(keys))
	for i, k := range keys {
		c, err := newSortColumn(fields, k.Col, k.Weight, k.Desc)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return cols, nil
}

func (p *windowPartition) peers(rows [][][]byte, order []sortColumn) {
	m := len(p.idx)
	p.peerStart, p.peerEnd = make([]int, m), make([]int, m)
	for s := 0; s < m; {
		e := s + 1
		for e < m && compareRows(rows[p.idx[s]], rows[p.idx[e]], order) == 0 {
			e++
		}
		for i := s; i < e; i++ {
			p.peerStart[i], p.peerEnd[i] = s, e-1
		}
		s = e
	}
}

// windowComputer holds what one function needs while it walks partitions.
type windowComputer struct {
	f              *WindowFunc
	rows           [][][]byte
	n              int64 // NTILE buckets, LAG/LEAD offset, NTH_VALUE position
	startN, endN   int64 // ROWS frame offsets
	arg, argWeight int
	def, defWeight int
	argField       *mysql.Field
	resField       *mysql.Field
	minMax         sortColumn
	ranges         *rangeFrame // RANGE frames with offsets
	vals, weights  [][]byte
	numbers        []*big.Rat // SUM/AVG: exact argument values (nil: NULL)
	floats         []float64
	isFloat        bool
}

func newWindowComputer(f *WindowFunc, fields []*mysql.Field, rows [][][]byte, args []any) (*windowComputer, error) {
	nf := len(fields)
	c := &windowComputer{f: f, rows: rows, arg: -1, argWeight: -1, def: -1, defWeight: -1,
		vals: make([][]byte, len(rows))}
	c.resField = fields[resolveColumn(f.Col, nf)]
	col := func(i int) (int, error) {
		if i == NoColumn {
			return -1, nil
		}
		r := resolveColumn(i, nf)
		if r < 0 || r >= nf {
			return 0, errInternal("window column %d out of range: %d columns", i, nf)
		}
		return r, nil
	}
	var err error
	if c.arg, err = col(f.Arg); err != nil {
		return nil, err
	}
	if c.argWeight, err = col(f.ArgWeight); err != nil {
		return nil, err
	}
	if c.def, err = col(f.Default); err != nil {
		return nil, err
	}
	if c.defWeight, err = col(f.DefaultWeight); err != nil {
		return nil, err
	}
	if c.arg >= 0 {
		c.argField = fields[c.arg]
	}
	if c.argWeight >= 0 {
		c.weights = make([][]byte, len(rows))
	}
	if f.N != nil {
		v, err := LimitValue(*f.N, args)
		if err != nil {
			return nil, errWrongArgs2(f.Kind.String())
		}
		c.n = int64(min(v, 1<<62))
	} else if f.Kind == WinLag || f.Kind == WinLead {
		c.n = 1
	}
	switch f.Kind {
	case WinNtile, WinNthValue:
		if c.n <= 0 {
			return nil, errWrongArgs2(f.Kind.String())
		}
	}
	if f.Frame != nil && f.Frame.Rows {
		if c.startN, err = boundOffset(f.Frame.Start, args); err != nil {
			return nil, err
		}
		if c.endN, err = boundOffset(f.Frame.End, args); err != nil {
			return nil, err
		}
	}
	if hasRangeOffset(f.Frame) {
		if c.ranges, err = newRangeFrame(f, fields, rows, args); err != nil {
			return nil, err
		}
	}
	switch f.Kind {
	case WinMin, WinMax:
		if c.arg < 0 {
			return nil, errInternal("window %s without an argument", f.Kind)
		}
		mm, err := newSortColumn(fields, c.arg, windowWeight(c.argWeight), f.Kind == WinMax)
		if err != nil {
			return nil, err
		}
		c.minMax = mm
	case WinSum, WinAvg:
		if c.arg < 0 {
			return nil, errInternal("window %s without an argument", f.Kind)
		}
		if err := c.readNumbers(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func windowWeight(col int) int {
	if col < 0 {
		return NoWeight
	}
	return col
}

func boundOffset(b FrameBound, args []any) (int64, error) {
	if b.Kind != BoundPreceding && b.Kind != BoundFollowing {
		return 0, nil
	}
	v, err := LimitValue(b.N, args)
	if err != nil {
		return 0, errWrongArgs2("the window frame")
	}
	return int64(min(v, 1<<40)), nil
}

func isFloatField(f *mysql.Field) bool {
	return f.Type == mysql.MYSQL_TYPE_DOUBLE || f.Type == mysql.MYSQL_TYPE_FLOAT
}

// readNumbers parses SUM/AVG's argument once per row.
func (c *windowComputer) readNumbers() error {
	c.isFloat = isFloatField(c.argField) || isFloatField(c.resField)
	if c.isFloat {
		c.floats = make([]float64, len(c.rows))
	}
	c.numbers = make([]*big.Rat, len(c.rows))
	for i, r := range c.rows {
		v := r[c.arg]
		if v == nil {
			continue
		}
		if c.isFloat {
			x, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return errInternal("window %s: %q is not a number", c.f.Kind, v)
			}
			c.floats[i] = x
			c.numbers[i] = new(big.Rat) // marks non-NULL
			continue
		}
		x, ok := new(big.Rat).SetString(string(v))
		if !ok {
			return errInternal("window %s: %q is not a number", c.f.Kind, v)
		}
		c.numbers[i] = x
	}
	return nil
}

func (c *windowComputer) set(p *windowPartition, i int, v []byte) {
	c.vals[p.idx[i]] = v
}

// setFrom gives position i the argument value of row src (an input row
// index), or NULL when src < 0.
func (c *windowComputer) setFrom(p *windowPartition, i, src int) {
	r := p.idx[i]
	if src < 0 {
		c.vals[r] = nil
		if c.weights != nil {
			c.weights[r] = nil
		}
		return
	}
	c.vals[r] = c.rows[src][c.arg]
	if c.weights != nil {
		c.weights[r] = c.rows[src][c.argWeight]
	}
}

func (c *windowComputer) partition(p *windowPartition) error {
	m := len(p.idx)
	switch c.f.Kind {
	case WinRowNumber:
		for i := range m {
			c.set(p, i, strconv.AppendInt(nil, int64(i+1), 10))
		}
	case WinRank:
		for i := range m {
			c.set(p, i, strconv.AppendInt(nil, int64(p.peerStart[i]+1), 10))
		}
	case WinDenseRank:
		rank := 0
		for i := range m {
			if p.peerStart[i] == i {
				rank++
			}
			c.set(p, i, strconv.AppendInt(nil, int64(rank), 10))
		}
	case WinPercentRank:
		for i := range m {
			v := 0.0
			if m > 1 {
				v = float64(p.peerStart[i]) / float64(m-1)
			}
			c.set(p, i, c.double(v))
		}
	case WinCumeDist:
		for i := range m {
			c.set(p, i, c.double(float64(p.peerEnd[i]+1)/float64(m)))
		}
	case WinNtile:
		c.ntile(p)
	case WinLag, WinLead:
		c.lagLead(p)
	default:
		return c.framed(p)
	}
	return nil
}

// double writes a DOUBLE result as MariaDB sends it: PERCENT_RANK and
// CUME_DIST have 10 decimals in their field and are rounded to them,
// without trailing zeros ('0.0925925926', '0.5', '1').
func (c *windowComputer) double(v float64) []byte {
	if d := c.resField.Decimal; d < 31 {
		s := strconv.FormatFloat(v, 'f', int(d), 64)
		if strings.IndexByte(s, '.') >= 0 {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return []byte(s)
	}
	return []byte(formatDouble(v))
}

// ntile deals m rows into n buckets, the first m%n one row larger.
func (c *windowComputer) ntile(p *windowPartition) {
	m := int64(len(p.idx))
	size, rest := m/c.n, m%c.n
	larger := rest * (size + 1) // rows in the larger buckets
	for i := int64(0); i < m; i++ {
		var b int64
		if i < larger {
			b = i/(size+1) + 1
		} else {
			b = (i-larger)/size + rest + 1
		}
		c.set(p, int(i), strconv.AppendInt(nil, b, 10))
	}
}

func (c *windowComputer) lagLead(p *windowPartition) {
	m := int64(len(p.idx))
	for i := int64(0); i < m; i++ {
		j := i - c.n
		if c.f.Kind == WinLead {
			j = i + c.n
		}
		if j >= 0 && j < m {
			c.setFrom(p, int(i), p.idx[j])
			continue
		}
		r := p.idx[i]
		if c.def < 0 {
			c.vals[r] = nil
		} else {
			c.vals[r] = c.rows[r][c.def]
		}
		if c.weights != nil {
			c.weights[r] = nil
			if c.defWeight >= 0 {
				c.weights[r] = c.rows[r][c.defWeight]
			}
		}
	}
}

// frame returns position i's frame [lo, hi] in the partition (empty when
// lo > hi).
func (c *windowComputer) frame(p *windowPartition, i int) (lo, hi int) {
	m := len(p.idx)
	fr := c.f.Frame
	if fr == nil {
		return 0, p.peerEnd[i]
	}
	bound := func(b FrameBound, off int64, start bool) int {
		switch b.Kind {
		case BoundUnboundedPreceding:
			return 0
		case BoundUnboundedFollowing:
			return m - 1
		case BoundCurrentRow:
			if fr.Rows {
				return i
			}
			if start {
				return p.peerStart[i]
			}
			return p.peerEnd[i]
		}
		if !fr.Rows {
			return c.ranges.bound(p, i, b, start)
		}
		if b.Kind == BoundPreceding {
			return int(max(int64(i)-off, -1))
		}
		return int(min(int64(i)+off, int64(m)))
	}
	lo, hi = bound(fr.Start, c.startN, true), bound(fr.End, c.endN, false)
	return max(lo, 0), min(hi, m-1)
}

// framed computes the functions that read a frame. Frames only move
// forward (both ends are non-decreasing in the row), so SUM, COUNT and AVG
// slide: each row enters and leaves once.
func (c *windowComputer) framed(p *windowPartition) error {
	m := len(p.idx)
	var acc windowSum
	var mm minMaxState
	if k := c.f.Kind; k == WinMin || k == WinMax {
		mm = c.newMinMaxState(p)
	}
	curLo, curHi := 0, -1
	for i := range m {
		lo, hi := c.frame(p, i)
		switch c.f.Kind {
		case WinFirstValue, WinLastValue, WinNthValue:
			src := -1
			switch {
			case lo > hi:
			case c.f.Kind == WinFirstValue:
				src = p.idx[lo]
			case c.f.Kind == WinLastValue:
				src = p.idx[hi]
			case int64(lo)+c.n-1 <= int64(hi):
				src = p.idx[lo+int(c.n)-1]
			}
			c.setFrom(p, i, src)
			continue
		case WinMin, WinMax:
			c.setFrom(p, i, c.minMaxOf(p, lo, hi, &mm))
			continue
		}
		for curHi < hi {
			curHi++
			if curHi >= curLo {
				c.add(&acc, p.idx[curHi], 1)
			}
		}
		for curLo < lo {
			if curLo <= curHi {
				c.add(&acc, p.idx[curLo], -1)
			}
			curLo++
		}
		c.set(p, i, c.result(&acc))
	}
	return nil
}

// minMaxState avoids rescanning frames that start at the partition's
// first row (the best so far grows with the frame's end) or end at its
// last (the best of each suffix, computed once); other frames have a
// written size and are scanned.
type minMaxState struct {
	prefix      bool
	prefixHi    int // rows [0, prefixHi] are in prefixBest
	prefixBest  int // input row, or -1
	suffixBest  []int
	fromSuffix  bool
	comparisons []sortColumn
}

func (c *windowComputer) newMinMaxState(p *windowPartition) minMaxState {
	st := minMaxState{prefixHi: -1, prefixBest: -1, comparisons: []sortColumn{c.minMax}}
	fr := c.f.Frame
	switch {
	case fr == nil || fr.Start.Kind == BoundUnboundedPreceding:
		st.prefix = true
	case fr.End.Kind == BoundUnboundedFollowing:
		st.fromSuffix = true
		m := len(p.idx)
		st.suffixBest = make([]int, m+1)
		st.suffixBest[m] = -1
		for j := m - 1; j >= 0; j-- {
			st.suffixBest[j] = c.better(p.idx[j], st.suffixBest[j+1], st.comparisons)
		}
	}
	return st
}

// better returns the winner of input rows r and best (-1: none), NULLs
// never winning.
func (c *windowComputer) better(r, best int, cols []sortColumn) int {
	if c.rows[r][c.arg] == nil {
		return best
	}
	if best < 0 || compareRows(c.rows[r], c.rows[best], cols) < 0 {
		return r
	}
	return best
}

func (c *windowComputer) minMaxOf(p *windowPartition, lo, hi int, st *minMaxState) int {
	if lo > hi {
		return -1
	}
	switch {
	case st.prefix:
		for st.prefixHi < hi {
			st.prefixHi++
			st.prefixBest = c.better(p.idx[st.prefixHi], st.prefixBest, st.comparisons)
		}
		return st.prefixBest
	case st.fromSuffix:
		return st.suffixBest[lo]
	}
	best := -1
	for j := lo; j <= hi; j++ {
		best = c.better(p.idx[j], best, st.comparisons)
	}
	return best
}

// windowSum is the running state of COUNT, SUM and AVG over a frame.
type windowSum struct {
	rows  int64 // rows in the frame
	n     int64 // non-NULL arguments in the frame
	exact big.Rat
	f     float64
}

func (c *windowComputer) add(acc *windowSum, r int, sign int64) {
	acc.rows += sign
	switch c.f.Kind {
	case WinCountStar:
		return
	case WinCount:
		if c.rows[r][c.arg] != nil {
			acc.n += sign
		}
		return
	}
	x := c.numbers[r]
	if x == nil {
		return
	}
	acc.n += sign
	if c.isFloat {
		acc.f += float64(sign) * c.floats[r]
		return
	}
	if sign > 0 {
		acc.exact.Add(&acc.exact, x)
	} else {
		acc.exact.Sub(&acc.exact, x)
	}
}

func (c *windowComputer) result(acc *windowSum) []byte {
	switch c.f.Kind {
	case WinCountStar:
		return strconv.AppendInt(nil, acc.rows, 10)
	case WinCount:
		return strconv.AppendInt(nil, acc.n, 10)
	}
	if acc.n == 0 {
		return nil
	}
	scale := min(int(c.resField.Decimal), 30)
	if c.f.Kind == WinSum {
		if c.isFloat {
			return c.double(acc.f)
		}
		return []byte(acc.exact.FloatString(scale))
	}
	if c.isFloat {
		return c.double(acc.f / float64(acc.n))
	}
	q := new(big.Rat).Quo(&acc.exact, new(big.Rat).SetInt64(acc.n))
	return []byte(q.FloatString(scale))
}
