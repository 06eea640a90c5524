package engine

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// AggregateRows evaluates a SELECT's own clauses at the gateway over the
// rows any input produced — a grouped, DISTINCT or LIMITed derived table,
// a derived UNION, a gateway join of one — where the shards cannot: GROUP
// BY (Keys) with aggregates over the raw values, expressions of them
// (Computed), HAVING, ORDER BY, and the projection to the client's
// columns (a WHERE is a Filter below it). Unlike GroupAggregate, which merges partial aggregates the
// shards computed, it aggregates single rows: COUNT counts non-NULL
// values, SUM and AVG add them up, MIN and MAX compare them (strings by
// their weight_string column, so in their collation). Without Keys and
// Scalar every row that passes the filter is a row of the result.
//
// It holds its input whole and one row per group, each counted against
// the gateway's row budget (--max-buffered-rows, 1041 past it), as the
// input's rows were when they were read.
type AggregateRows struct {
	Input Primitive
	// Keys are the grouping columns of the input (with weight_string
	// columns); Scalar with no keys is one group even for no rows.
	Keys   []GroupKey
	Scalar bool
	// Columns are the result's columns: the client's, then hidden ones
	// that HAVING and ORDER BY read.
	Columns []RowsColumn
	// Computed columns are evaluated over the result row once its
	// aggregates are known; Having then decides whether the row stays.
	Computed   []ComputedColumn
	Having     Expr
	HavingText string
	// Order sorts the result by its columns.
	Order []OrderKey
	// Visible is the number of columns the client sees; their fields come
	// from Probe, a query with MySQL's own types and names for them.
	Visible int
	Probe   *Route
	// Rollup, for GROUP BY ... WITH ROLLUP, adds the super-aggregate
	// rows; its Nulls are result columns (group_rollup.go).
	Rollup *Rollup
}

// RowsColumn is one result column of AggregateRows: a column of the
// input (of the group's first row), or an aggregate over its values.
type RowsColumn struct {
	// Aggregate says Op applies; else the column copies input column Col.
	Aggregate bool
	Op        AggregateOp
	// Col is the input column read (NoColumn for COUNT(*), or for a
	// column computed later).
	Col int
	// Weight is the weight_string column of a MIN/MAX argument; with
	// WinnerWeight the result is the winning row's weight, not its value
	// (a hidden column to order a MIN/MAX of strings by).
	Weight       int
	WinnerWeight bool
	// Distinct are the arguments of COUNT, SUM or AVG (DISTINCT ...).
	Distinct []GroupKey
	// Concat is a GROUP_CONCAT: Elem is the input column of its one
	// argument, Keys its DISTINCT arguments, Order over input columns.
	Concat *GroupConcat
}

var _ Primitive = (*AggregateRows)(nil)

// rowsGroup is one group: its first row and its aggregates' states.
type rowsGroup struct {
	first [][]byte
	aggs  []aggState
	// rollup is 0 for a group, l+1 for a super-aggregate row keeping l
	// keys.
	rollup int
}

// Execute implements Primitive.
func (a *AggregateRows) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	in, err := a.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	var probe []*mysql.Field
	if a.Probe != nil {
		pr, err := a.Probe.Execute(ctx, vc, args)
		if err != nil {
			return nil, err
		}
		if len(pr.Fields) != a.Visible {
			return nil, errInternal("aggregate rows: type probe returned %d columns, want %d", len(pr.Fields), a.Visible)
		}
		probe = pr.Fields
	}
	fields := in.Fields
	if err := a.check(len(fields)); err != nil {
		return nil, err
	}
	env := evalEnvOf(vc)
	kinds := columnKinds(fields)
	pads := padsOf(fields)
	if err := a.checkWeights(fields, kinds); err != nil {
		return nil, err
	}
	minmax := make([]sortColumn, len(a.Columns))
	for i, c := range a.Columns {
		if c.Aggregate && (c.Op == AggrMin || c.Op == AggrMax) {
			sc, err := newSortColumn(fields, c.Col, c.Weight, c.Op == AggrMax)
			if err != nil {
				return nil, err
			}
			minmax[i] = sc
		}
	}
	grouped := len(a.Keys) > 0 || a.Scalar
	// Each group held counts against the statement's row budget (the
	// input's rows were counted when they were read).
	held := rowCounter{vc: vc}
	var rr *rowsRollup
	if a.Rollup != nil {
		if rr, err = a.newRowsRollup(fields); err != nil {
			return nil, err
		}
	}
	index := map[string]*rowsGroup{}
	var groups []*rowsGroup
	var key []byte
	var ends []int
	for _, row := range in.Rows {
		var gr *rowsGroup
		if grouped {
			key, ends = key[:0], ends[:0]
			for _, k := range a.Keys {
				if key, err = appendGroupKey(key, row, k, kinds, pads); err != nil {
					return nil, err
				}
				ends = append(ends, len(key))
			}
			gr = index[string(key)]
		}
		if gr == nil {
			gr = &rowsGroup{first: row, aggs: make([]aggState, len(a.Columns))}
			if grouped {
				index[string(key)] = gr
				if err := held.add(); err != nil {
					return nil, err
				}
			}
			groups = append(groups, gr)
		}
		targets := []*rowsGroup{gr}
		if rr != nil {
			more, err := rr.levelGroups(gr, row, key, ends, len(a.Columns), &held)
			if err != nil {
				return nil, err
			}
			targets = append(targets, more...)
		}
		for _, t := range targets {
			for i, c := range a.Columns {
				if c.Aggregate {
					if err := addRaw(&t.aggs[i], c, row, fields, kinds, pads, minmax[i]); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	if err := held.flush(); err != nil {
		return nil, err
	}
	if rr != nil {
		groups = rr.sequence(groups)
	}
	if len(groups) == 0 && a.Scalar && len(a.Keys) == 0 {
		groups = append(groups, &rowsGroup{aggs: make([]aggState, len(a.Columns))})
	}
	outFields := a.resultFields(fields, probe, env)
	outEC := newEvalCtx(outFields, env)
	out := make([][][]byte, 0, len(groups))
	var cut []int
	// joined counts each GROUP_CONCAT's elements over all groups so far:
	// MySQL's warning 1260 names that count (concatWarningRows).
	joined := make([]int, len(a.Columns))
	for _, gr := range groups {
		row := make([][]byte, len(a.Columns))
		for i, c := range a.Columns {
			v, n, err := finishRaw(&gr.aggs[i], c, gr.first, fields, outFields[i], env.GroupConcatMaxLen)
			if err != nil {
				return nil, err
			}
			row[i] = v
			joined[i] += n.joined
			if n.cut {
				cut = append(cut, joined[i])
			}
		}
		if gr.rollup > 0 {
			nullRolledUp(row, a.Rollup.Nulls, gr.rollup-1)
		}
		if err := computeColumns(a.Computed, row, outFields, outEC, args); err != nil {
			return nil, err
		}
		if a.Having != nil {
			v, err := a.Having(row, outEC, args)
			if err != nil {
				return nil, err
			}
			if t, null := v.truth(); null || !t {
				continue
			}
		}
		out = append(out, row)
	}
	if len(a.Order) > 0 {
		cols := make([]sortColumn, len(a.Order))
		for i, k := range a.Order {
			c, err := newSortColumn(outFields, k.Col, k.Weight, k.Desc)
			if err != nil {
				return nil, err
			}
			cols[i] = c
		}
		slices.SortStableFunc(out, func(x, y [][]byte) int { return compareRows(x, y, cols) })
	}
	for i, r := range out {
		out[i] = r[:a.Visible]
	}
	concatWarnings(vc, cut)
	return &Result{Fields: outFields[:a.Visible], Rows: out, Warnings: in.Warnings}, nil
}

// check verifies that every input column the plan reads exists.
func (a *AggregateRows) check(n int) error {
	bad := func(c int) bool { return c != NoColumn && (c < 0 || c >= n) }
	badKey := func(k GroupKey) bool { return bad(k.Col) || (k.Weight != NoWeight && bad(k.Weight)) }
	if len(a.Columns) < a.Visible {
		return errInternal("aggregate rows: %d columns, %d visible", len(a.Columns), a.Visible)
	}
	for _, k := range a.Keys {
		if badKey(k) {
			return errInternal("aggregate rows: key column out of range of %d columns", n)
		}
	}
	for _, c := range a.Columns {
		if bad(c.Col) || (c.Weight != NoWeight && bad(c.Weight)) || slices.ContainsFunc(c.Distinct, badKey) {
			return errInternal("aggregate rows: column out of range of %d columns", n)
		}
		if g := c.Concat; g != nil && (bad(g.Elem) || slices.ContainsFunc(g.Keys, badKey) ||
			slices.ContainsFunc(g.Order, func(k OrderKey) bool { return badKey(GroupKey{Col: k.Col, Weight: k.Weight}) })) {
			return errInternal("aggregate rows: column out of range of %d columns", n)
		}
	}
	return nil
}

// checkWeights refuses to group or de-duplicate a string column whose
// weight_string the input does not have (a MIN or MAX of strings of a
// grouped derived table): its collation's equality is not known here.
func (a *AggregateRows) checkWeights(fields []*mysql.Field, kinds []sortKind) error {
	keys := slices.Clone(a.Keys)
	for _, c := range a.Columns {
		keys = append(keys, c.Distinct...)
		if c.Concat != nil {
			keys = append(keys, c.Concat.Keys...)
		}
	}
	for _, k := range keys {
		if k.Weight == NoWeight && kinds[k.Col] == sortWeight {
			return unsupportedf("grouping by character column %s without its weight_string across shards", fields[k.Col].Name)
		}
	}
	return nil
}

// resultFields are the result's fields: the probe's for the visible
// columns; for hidden ones, the input column's or the aggregate's type.
func (a *AggregateRows) resultFields(in, probe []*mysql.Field, env EvalEnv) []*mysql.Field {
	out := make([]*mysql.Field, len(a.Columns))
	for i, c := range a.Columns {
		switch {
		case i < len(probe):
			out[i] = probe[i]
		case c.Aggregate && c.WinnerWeight:
			out[i] = in[c.Weight]
		case c.Aggregate:
			out[i] = aggregateField(c, in, env.DivPrecisionIncrement)
		case c.Col != NoColumn:
			out[i] = in[c.Col]
		default:
			out[i] = numberField(mysql.MYSQL_TYPE_NEWDECIMAL, maxDecimalScale)
		}
	}
	return out
}

// aggregateField is MySQL's type of a hidden aggregate over the input
// column's values: BIGINT counts, DOUBLE sums of floating-point numbers,
// DECIMAL other sums and averages (with div_precision_increment more
// digits for AVG), the argument's own type for MIN, MAX and GROUP_CONCAT.
func aggregateField(c RowsColumn, in []*mysql.Field, divPrecisionIncrement int) *mysql.Field {
	arg := c.Col
	if len(c.Distinct) > 0 {
		arg = c.Distinct[0].Col
	}
	switch c.Op {
	case AggrCount, AggrCountDistinct:
		return numberField(mysql.MYSQL_TYPE_LONGLONG, 0)
	case AggrMin, AggrMax, AggrGroupConcat:
		if c.Concat != nil {
			arg = c.Concat.Elem
		}
		return in[arg]
	}
	f := in[arg]
	if f.Type == mysql.MYSQL_TYPE_DOUBLE || f.Type == mysql.MYSQL_TYPE_FLOAT {
		return numberField(mysql.MYSQL_TYPE_DOUBLE, notFixedDec)
	}
	scale := int(f.Decimal)
	if c.Op == AggrAvg || c.Op == AggrAvgDistinct {
		scale = min(scale+divPrecisionIncrement, 30)
	}
	return numberField(mysql.MYSQL_TYPE_NEWDECIMAL, scale)
}

func numberField(typ uint8, decimals int) *mysql.Field {
	return &mysql.Field{Type: typ, Charset: binaryCharset, Decimal: uint8(decimals), Flag: mysql.BINARY_FLAG | mysql.NUM_FLAG}
}

// addRaw adds one input row to an aggregate's state.
func addRaw(st *aggState, c RowsColumn, row [][]byte, fields []*mysql.Field, kinds []sortKind, pads []bool, mm sortColumn) error {
	switch c.Op {
	case AggrCount:
		if c.Col == NoColumn || row[c.Col] != nil {
			st.n++
		}
		return nil
	case AggrSum, AggrAvg:
		if row[c.Col] == nil {
			return nil
		}
		st.n++
		return addSum(st, row[c.Col], fields[c.Col])
	case AggrMin, AggrMax:
		if row[c.Col] != nil && (st.best == nil || compareRows(row, st.best, []sortColumn{mm}) < 0) {
			st.best = row
		}
		return nil
	case AggrCountDistinct, AggrSumDistinct, AggrAvgDistinct:
		var k []byte
		for _, d := range c.Distinct {
			if row[d.Col] == nil {
				return nil // COUNT(DISTINCT a, b) skips rows with a NULL
			}
			var err error
			if k, err = appendGroupKey(k, row, d, kinds, pads); err != nil {
				return err
			}
		}
		if st.set == nil {
			st.set = map[string][]byte{}
		}
		if _, seen := st.set[string(k)]; !seen {
			st.set[string(k)] = row[c.Distinct[0].Col]
		}
		return nil
	case AggrGroupConcat:
		g := c.Concat
		if row[g.Elem] == nil {
			return nil
		}
		if g.Times < 0 {
			var k []byte
			for _, key := range g.Keys {
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
		st.elems = append(st.elems, concatElem{row: row, times: 1})
		return nil
	}
	return errInternal("aggregate rows: aggregate %s over single rows", c.Op.name())
}

// finishRaw is a result column's value for a group; for a GROUP_CONCAT,
// n counts the elements it joined and says whether it was cut to maxLen.
func finishRaw(st *aggState, c RowsColumn, first [][]byte, fields []*mysql.Field, out *mysql.Field, maxLen uint64) (v []byte, n concatCount, err error) {
	if !c.Aggregate {
		if first == nil || c.Col == NoColumn {
			return nil, n, nil
		}
		return first[c.Col], n, nil
	}
	switch c.Op {
	case AggrCount:
		return strconv.AppendUint(nil, st.n, 10), n, nil
	case AggrCountDistinct:
		return strconv.AppendInt(nil, int64(len(st.set)), 10), n, nil
	case AggrSum:
		return sumText(st), n, nil
	case AggrAvg:
		return avgText(st, out), n, nil
	case AggrSumDistinct, AggrAvgDistinct:
		return distinctTotal(st.set, fields[c.Distinct[0].Col], out, c.Op == AggrAvgDistinct), n, nil
	case AggrMin, AggrMax:
		switch {
		case st.best == nil:
			return nil, n, nil
		case c.WinnerWeight:
			return st.best[c.Weight], n, nil
		}
		return st.best[c.Col], n, nil
	case AggrGroupConcat:
		return finishConcat(st, c.Concat, fields, maxLen)
	}
	return nil, n, errInternal("aggregate rows: aggregate %s over single rows", c.Op.name())
}

// Stream implements Primitive: groups are complete only at the end.
func (a *AggregateRows) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, a, vc, args, fn)
}

// Inputs implements Primitive: the input, then the type probe.
func (a *AggregateRows) Inputs() []Primitive {
	if a.Probe == nil {
		return []Primitive{a.Input}
	}
	return []Primitive{a.Input, a.Probe}
}

func (a *AggregateRows) description() Description {
	variant := "Rows"
	switch {
	case len(a.Keys) > 0:
		variant = "Hash"
	case a.Scalar:
		variant = "Scalar"
	}
	d := Description{OperatorType: "AggregateRows", Variant: variant, Other: map[string]any{"ResultColumns": a.Visible}}
	var cols []string
	for _, c := range a.Columns {
		cols = append(cols, describeRowsColumn(c))
	}
	d.Other["Columns"] = cols
	if len(a.Keys) > 0 {
		d.Other["GroupBy"] = describeGroupKeys(a.Keys)
	}
	if len(a.Computed) > 0 {
		d.Other["Computed"] = describeComputed(a.Computed)
	}
	if a.Rollup != nil {
		d.Other["Rollup"] = describeRollup(a.Keys, a.Rollup)
	}
	if a.HavingText != "" {
		d.Other["Having"] = a.HavingText
	}
	if len(a.Order) > 0 {
		d.Other["OrderBy"] = strings.Join(describeKeys(a.Order), ", ")
	}
	return d
}

func describeRowsColumn(c RowsColumn) string {
	if !c.Aggregate {
		if c.Col == NoColumn {
			return "computed"
		}
		return colRef(c.Col)
	}
	arg := "*"
	switch {
	case c.Concat != nil:
		arg = describeConcat(c.Concat)
	case len(c.Distinct) > 0:
		var ds []string
		for _, d := range c.Distinct {
			ds = append(ds, colRef(d.Col))
		}
		arg = "distinct " + strings.Join(ds, ", ")
	case c.Col != NoColumn:
		arg = colRef(c.Col)
	}
	s := c.Op.name() + "(" + arg + ")"
	if c.Weight != NoWeight {
		s += " weight_string " + colRef(c.Weight)
		if c.WinnerWeight {
			s += " (its weight)"
		}
	}
	return s
}
