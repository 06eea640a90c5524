package engine

import (
	"cmp"
	"context"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// More aggregate operations, used by GroupAggregate only.
const (
	// AggrAvg: the column holds the shard's AVG (for its field type and
	// scale); Sum and Count name the hidden SUM and COUNT it is computed from.
	AggrAvg AggregateOp = iota + AggrMax + 1
	// AggrCountDistinct: the shards grouped by the argument too, so each
	// shard row is one distinct value (Distinct, with its weight) whose
	// pushed COUNT(DISTINCT) is 1 unless the value is NULL.
	AggrCountDistinct
	// AggrSumDistinct and AggrAvgDistinct: as for AggrCountDistinct, each
	// shard row has one value of the argument, which its pushed SUM or AVG
	// of DISTINCT is (in the result's type); the distinct values are
	// summed or averaged.
	AggrSumDistinct
	AggrAvgDistinct
)

func (o AggregateOp) name() string {
	switch o {
	case AggrAvg:
		return "avg"
	case AggrCountDistinct:
		return "count_distinct"
	case AggrSumDistinct:
		return "sum_distinct"
	case AggrAvgDistinct:
		return "avg_distinct"
	case AggrGroupConcat:
		return "group_concat"
	}
	return o.String()
}

// GroupAggregate merges the rows of a grouped (or scalar) aggregate query
// run on several shards: rows with the same grouping key are combined
// column by column, HAVING is evaluated on the merged groups, which are
// then ordered and cut to the visible columns. A hash aggregate: it holds
// one row per group.
type GroupAggregate struct {
	Input Primitive
	// Keys are the grouping columns (with their weight_string columns); no
	// keys with Scalar set means one group, even for no rows.
	Keys   []GroupKey
	Scalar bool
	// Aggregates are the aggregated columns; every other column keeps the
	// value of the group's first row (it depends on the grouping keys).
	Aggregates []GroupAggregateColumn
	// Computed are the columns computed from the merged aggregates, before
	// HAVING and ORDER BY read them.
	Computed   []ComputedColumn
	Having     Expr
	HavingText string
	// Distinct, for SELECT DISTINCT with GROUP BY, are the visible columns
	// (with their weight_string columns, NoWeight for numbers and strings
	// computed at the gateway) that tell result rows apart: groups equal
	// in all of them are one row, after HAVING, before ORDER BY.
	Distinct []GroupKey
	Order    []OrderKey
	// Visible is the number of columns the client sees.
	Visible int
	// RetypeCounts makes COUNT columns BIGINT: set when the input holds
	// per-row partials (a gateway join) rather than the shards' COUNTs.
	RetypeCounts bool
	// TypeProbes give the result columns whose type MySQL derives (SUM,
	// AVG over per-row partials) the fields of a query that reads nothing.
	TypeProbes []TypeProbe
	// Rollup, for GROUP BY ... WITH ROLLUP, adds the super-aggregate
	// rows (group_rollup.go).
	Rollup *Rollup
}

// TypeProbe is a field query whose columns are the fields of result
// columns Cols.
type TypeProbe struct {
	Route *Route
	Cols  []int
}

// GroupKey is one grouping column and its weight_string column.
type GroupKey struct {
	Col, Weight int
}

// GroupAggregateColumn is one aggregated column.
type GroupAggregateColumn struct {
	Op  AggregateOp
	Col int
	// Weight is the weight_string column of a MIN/MAX (NoWeight if none).
	Weight int
	// Sum and Count are the hidden partial columns of an AVG.
	Sum, Count int
	// Distinct and DistinctWeight hold the value of a COUNT, SUM or AVG
	// (DISTINCT); DistinctRest the further arguments of a COUNT(DISTINCT a, b).
	Distinct, DistinctWeight int
	DistinctRest             []GroupKey
	// Concat describes a GROUP_CONCAT.
	Concat *GroupConcat
	// Companions, of a MIN or MAX, are columns the shards computed from
	// it alone (LOWER(MAX(name)), its weight_string): the merged value is
	// the winning row's, computed by the shard the winner came from in
	// the column's own collation.
	Companions []int
}

var _ Primitive = (*GroupAggregate)(nil)

// aggState accumulates one aggregate of one group.
type aggState struct {
	n       uint64
	isum    int64 // integer sums, until one is not an integer or overflows
	sum     *big.Rat
	scale   int
	f       float64
	isFloat bool
	seen    bool
	best    [][]byte          // MIN/MAX: the winning row
	set     map[string][]byte // distinct values by group key
	elems   []concatElem      // GROUP_CONCAT's elements
}

type group struct {
	row  [][]byte
	aggs []aggState
	// concats are the GROUP_CONCATs' counts of elements joined, in
	// aggregate order.
	concats []concatCount
}

// Execute implements Primitive.
func (g *GroupAggregate) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	in, err := g.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	if len(g.TypeProbes) > 0 {
		// The probes' fields replace the partials' before merging: AVG
		// rounds to its field's scale.
		fields := slices.Clone(in.Fields)
		for _, p := range g.TypeProbes {
			pr, err := p.Route.Execute(ctx, vc, args)
			if err != nil {
				return nil, err
			}
			if len(pr.Fields) != len(p.Cols) {
				return nil, errInternal("type probe returned %d columns, want %d", len(pr.Fields), len(p.Cols))
			}
			for i, col := range p.Cols {
				if col < len(fields) {
					fields[col] = pr.Fields[i]
				}
			}
		}
		in = &Result{Fields: fields, Rows: in.Rows, Warnings: in.Warnings}
	}
	r, cut, err := g.merge(in, args, evalEnvOf(vc))
	if err != nil {
		return nil, err
	}
	concatWarnings(vc, cut)
	return r, nil
}

// Stream implements Primitive: groups are complete only at the end.
func (g *GroupAggregate) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := g.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	if err := fn(&Result{Fields: r.Fields}); err != nil {
		return err
	}
	if len(r.Rows) == 0 {
		return nil
	}
	return fn(&Result{Rows: r.Rows, Warnings: r.Warnings})
}

// merge merges the input's rows into groups, evaluating with the
// session's settings env; cut lists the row numbers MySQL's warnings 1260
// name for the GROUP_CONCATs it cut (concatWarningRows).
func (g *GroupAggregate) merge(in *Result, args []any, env EvalEnv) (_ *Result, cut []int, _ error) {
	fields := in.Fields
	n := len(fields)
	if n < g.Visible || n == 0 {
		return nil, nil, errInternal("aggregate: shards returned %d columns, want at least %d", n, g.Visible)
	}
	for _, k := range g.Keys {
		if k.Col >= n || k.Weight >= n {
			return nil, nil, errInternal("aggregate: key column out of range")
		}
	}
	minmax := make([]sortColumn, len(g.Aggregates))
	for i, a := range g.Aggregates {
		if a.Col >= n || a.Sum >= n || a.Count >= n || a.Distinct >= n || a.DistinctWeight >= n || a.Weight >= n {
			return nil, nil, errInternal("aggregate: column out of range")
		}
		for _, k := range a.DistinctRest {
			if k.Col >= n || k.Weight >= n {
				return nil, nil, errInternal("aggregate: column out of range")
			}
		}
		if c := a.Concat; c != nil && (c.Elem >= n || c.Times >= n) {
			return nil, nil, errInternal("aggregate: column out of range")
		}
		for _, c := range a.Companions {
			if c < 0 || c >= n {
				return nil, nil, errInternal("aggregate: column out of range")
			}
		}
		if a.Op == AggrMin || a.Op == AggrMax {
			sc, err := newSortColumn(fields, a.Col, a.Weight, a.Op == AggrMax)
			if err != nil {
				return nil, nil, err
			}
			minmax[i] = sc
		}
	}
	kinds := columnKinds(fields)
	ec := &evalCtx{fields: fields, kinds: kinds, env: env}
	pads := make([]bool, n)
	for i, f := range fields {
		pads[i] = padSpace(f)
	}
	var rollupCols []sortColumn
	var rs *rollupState
	if g.Rollup != nil {
		if len(g.Rollup.Desc) != len(g.Keys) || len(g.Rollup.Nulls) != len(g.Keys) {
			return nil, nil, errInternal("aggregate: rollup of %d keys describes %d", len(g.Keys), len(g.Rollup.Desc))
		}
		for _, cols := range g.Rollup.Nulls {
			for _, c := range cols {
				if c < 0 || c >= n {
					return nil, nil, errInternal("aggregate: rollup column out of range")
				}
			}
		}
		var err error
		if rollupCols, err = g.rollupSortColumns(fields); err != nil {
			return nil, nil, err
		}
		rs = newRollupState()
	}
	index := map[string]*group{}
	var groups []*group
	var key []byte
	var ends []int
	for _, row := range in.Rows {
		key, ends = key[:0], ends[:0]
		for _, k := range g.Keys {
			var err error
			if key, err = appendGroupKey(key, row, k, kinds, pads); err != nil {
				return nil, nil, err
			}
			ends = append(ends, len(key))
		}
		gr := index[string(key)]
		if gr == nil {
			gr = &group{row: slices.Clone(row), aggs: make([]aggState, len(g.Aggregates))}
			index[string(key)] = gr
			groups = append(groups, gr)
		}
		targets := []*group{gr}
		if rs != nil {
			rs.note(gr, key, ends)
			targets = append(targets, rs.levelGroups(row, key, ends, len(g.Aggregates))...)
		}
		for _, t := range targets {
			for i, a := range g.Aggregates {
				if err := g.add(&t.aggs[i], a, row, fields, kinds, pads, minmax[i]); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	if len(groups) == 0 && g.Scalar {
		groups = append(groups, &group{row: make([][]byte, n), aggs: make([]aggState, len(g.Aggregates))})
	}
	if rs != nil {
		groups = g.rollupSequence(groups, rs, rollupCols)
	}
	kept := make([]*group, 0, len(groups))
	for _, gr := range groups {
		for i, a := range g.Aggregates {
			if a.Op == AggrGroupConcat {
				v, n, err := finishConcat(&gr.aggs[i], a.Concat, fields, env.GroupConcatMaxLen)
				if err != nil {
					return nil, nil, err
				}
				gr.row[a.Col] = v
				gr.concats = append(gr.concats, n)
				continue
			}
			g.finish(gr, &gr.aggs[i], a, fields)
		}
		if err := computeColumns(g.Computed, gr.row, fields, ec, args); err != nil {
			return nil, nil, err
		}
		if g.Having != nil {
			v, err := g.Having(gr.row, ec, args)
			if err != nil {
				return nil, nil, err
			}
			if t, null := v.truth(); null || !t {
				continue
			}
		}
		kept = append(kept, gr)
	}
	if len(g.Distinct) > 0 {
		var err error
		if kept, err = distinctGroups(kept, g.Distinct, kinds, pads); err != nil {
			return nil, nil, err
		}
	}
	if len(g.Order) > 0 {
		cols := make([]sortColumn, len(g.Order))
		for i, k := range g.Order {
			c, err := newSortColumn(fields, k.Col, k.Weight, k.Desc)
			if err != nil {
				return nil, nil, err
			}
			cols[i] = c
		}
		slices.SortStableFunc(kept, func(a, b *group) int { return compareRows(a.row, b.row, cols) })
	}
	out := make([][][]byte, len(kept))
	for i, gr := range kept {
		out[i] = gr.row[:g.Visible]
	}
	cut = concatWarningRows(kept)
	outFields := fields[:g.Visible]
	if g.RetypeCounts {
		outFields = slices.Clone(outFields)
		for _, a := range g.Aggregates {
			if (a.Op == AggrCount || a.Op == AggrCountDistinct) && a.Col < len(outFields) {
				f := *outFields[a.Col]
				f.Type, f.Charset, f.ColumnLength, f.Decimal = mysql.MYSQL_TYPE_LONGLONG, binaryCharset, 21, 0
				f.Flag = mysql.NOT_NULL_FLAG | mysql.BINARY_FLAG | mysql.NUM_FLAG
				f.Data = nil // Dump would send the shard's packet as it was
				outFields[a.Col] = &f
			}
		}
	}
	return &Result{Fields: outFields, Rows: out, Warnings: in.Warnings}, cut, nil
}

// distinctGroups keeps the first of each set of groups equal in the
// keys, as MySQL's DISTINCT over grouped rows does.
func distinctGroups(groups []*group, keys []GroupKey, kinds []sortKind, pads []bool) ([]*group, error) {
	seen := map[string]bool{}
	out := groups[:0]
	var key []byte
	for _, gr := range groups {
		key = key[:0]
		for _, k := range keys {
			if kinds[k.Col] == sortWeight && k.Weight == NoWeight && gr.row[k.Col] != nil {
				return nil, unsupported("DISTINCT over a string computed at the gateway across shards")
			}
			var err error
			if key, err = appendGroupKey(key, gr.row, k, kinds, pads); err != nil {
				return nil, err
			}
		}
		if seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		out = append(out, gr)
	}
	return out, nil
}

// appendGroupKey appends one key value in a form equal for values MySQL
// groups together: numbers by value, strings by weight, NULL apart.
func appendGroupKey(key []byte, row [][]byte, k GroupKey, kinds []sortKind, pads []bool) ([]byte, error) {
	v := row[k.Col]
	if v == nil {
		return append(key, 'N', 0), nil
	}
	switch kinds[k.Col] {
	case sortDecimal:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			v = strconv.AppendInt(nil, n, 10)
		} else if r, ok := new(big.Rat).SetString(string(v)); ok {
			v = []byte(r.RatString())
		}
	case sortFloat:
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			v = strconv.AppendFloat(nil, f, 'g', -1, 64)
		}
	case sortTime:
		v = strconv.AppendInt(nil, timeMicros(v), 10)
	case sortWeight:
		if k.Weight == NoWeight {
			return nil, errInternal("grouping by a character column without its weight_string")
		}
		v = row[k.Weight]
		if pads[k.Col] {
			v = trimSpaceWeight(row[k.Col], v)
		}
	}
	key = append(key, 'V')
	key = strconv.AppendInt(key, int64(len(v)), 10)
	key = append(key, ':')
	return append(key, v...), nil
}

func (g *GroupAggregate) add(st *aggState, a GroupAggregateColumn, row [][]byte, fields []*mysql.Field, kinds []sortKind, pads []bool, mm sortColumn) error {
	switch a.Op {
	case AggrCount:
		return addCount(st, row[a.Col])
	case AggrSum:
		return addSum(st, row[a.Col], fields[a.Col])
	case AggrAvg:
		if err := addSum(st, row[a.Sum], fields[a.Sum]); err != nil {
			return err
		}
		return addCount(st, row[a.Count])
	case AggrGroupConcat:
		return g.addConcat(st, a, row, kinds, pads)
	case AggrCountDistinct, AggrSumDistinct, AggrAvgDistinct:
		v := row[a.Col]
		if v == nil || (a.Op == AggrCountDistinct && string(v) == "0") {
			return nil
		}
		k, err := appendGroupKey(nil, row, GroupKey{Col: a.Distinct, Weight: a.DistinctWeight}, kinds, pads)
		if err != nil {
			return err
		}
		for _, more := range a.DistinctRest {
			if k, err = appendGroupKey(k, row, more, kinds, pads); err != nil {
				return err
			}
		}
		if st.set == nil {
			st.set = map[string][]byte{}
		}
		if _, seen := st.set[string(k)]; !seen {
			st.set[string(k)] = v
		}
		return nil
	}
	// MIN, MAX
	if row[a.Col] == nil {
		return nil
	}
	if st.best == nil || compareRows(row, st.best, []sortColumn{mm}) < 0 {
		st.best = row
	}
	return nil
}

func addCount(st *aggState, v []byte) error {
	if v == nil {
		return nil
	}
	c, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return errInternal("aggregate: count %q is not a number", v)
	}
	st.n += c
	return nil
}

func addSum(st *aggState, v []byte, f *mysql.Field) error {
	if v == nil {
		return nil
	}
	st.seen = true
	if f.Type == mysql.MYSQL_TYPE_DOUBLE || f.Type == mysql.MYSQL_TYPE_FLOAT {
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return errInternal("aggregate: sum %q is not a number", v)
		}
		st.isFloat = true
		st.f += x
		return nil
	}
	if st.sum == nil {
		// Fast path: whole numbers add up in an int64.
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			if s := st.isum + n; (n >= 0) == (s >= st.isum) {
				st.isum = s
				return nil
			}
		}
		st.sum = new(big.Rat).SetInt64(st.isum)
	}
	r, ok := new(big.Rat).SetString(string(v))
	if !ok {
		return errInternal("aggregate: sum %q is not a number", v)
	}
	st.sum.Add(st.sum, r)
	st.scale = max(st.scale, fracDigits(string(v)))
	return nil
}

// finish writes an aggregate's merged value into the group's row.
func (g *GroupAggregate) finish(gr *group, st *aggState, a GroupAggregateColumn, fields []*mysql.Field) {
	row := gr.row
	switch a.Op {
	case AggrCount:
		row[a.Col] = strconv.AppendUint(nil, st.n, 10)
	case AggrCountDistinct:
		row[a.Col] = strconv.AppendInt(nil, int64(len(st.set)), 10)
	case AggrSumDistinct, AggrAvgDistinct:
		// Each value is a shard's SUM or AVG of one distinct value.
		row[a.Col] = distinctTotal(st.set, fields[a.Col], fields[a.Col], a.Op == AggrAvgDistinct)
	case AggrSum:
		row[a.Col] = sumText(st)
	case AggrAvg:
		row[a.Col] = avgText(st, fields[a.Col])
	case AggrMin, AggrMax:
		if st.best == nil {
			row[a.Col] = nil
			if a.Weight != NoWeight {
				row[a.Weight] = nil
			}
			return
		}
		row[a.Col] = st.best[a.Col]
		if a.Weight != NoWeight {
			row[a.Weight] = st.best[a.Weight]
		}
		for _, c := range a.Companions {
			row[c] = st.best[c]
		}
	}
}

// distinctTotal is the SUM (or with avg the AVG, in field out's type) of
// a set of distinct values of field f.
func distinctTotal(set map[string][]byte, f, out *mysql.Field, avg bool) []byte {
	// Summed in ascending order, as MySQL sums the distinct values from
	// its sorted tree: a DOUBLE's sum depends on the order.
	vals := slices.Collect(maps.Values(set))
	slices.SortFunc(vals, func(x, y []byte) int {
		fx, _ := strconv.ParseFloat(string(x), 64)
		fy, _ := strconv.ParseFloat(string(y), 64)
		return cmp.Compare(fx, fy)
	})
	var total aggState
	for _, v := range vals {
		_ = addSum(&total, v, f) // numbers: their sum or average
	}
	total.n = uint64(len(vals))
	if avg {
		return avgText(&total, out)
	}
	return sumText(&total)
}

func sumText(st *aggState) []byte {
	switch {
	case !st.seen:
		return nil
	case st.isFloat:
		return []byte(formatDouble(st.f + ratFloat(st.exact())))
	case st.sum == nil:
		return strconv.AppendInt(nil, st.isum, 10)
	}
	return []byte(st.sum.FloatString(st.scale))
}

// exact is the exact sum so far.
func (st *aggState) exact() *big.Rat {
	if st.sum != nil {
		return st.sum
	}
	return new(big.Rat).SetInt64(st.isum)
}

func ratFloat(r *big.Rat) float64 {
	if r == nil {
		return 0
	}
	f, _ := r.Float64()
	return f
}

// avgText is SUM/COUNT in the AVG column's type: a DOUBLE, or a DECIMAL
// rounded half away from zero to the column's scale (the shard computed
// it with div_precision_increment).
func avgText(st *aggState, f *mysql.Field) []byte {
	if !st.seen || st.n == 0 {
		return nil
	}
	if st.isFloat || f.Type == mysql.MYSQL_TYPE_DOUBLE || f.Type == mysql.MYSQL_TYPE_FLOAT {
		return []byte(formatDouble((st.f + ratFloat(st.exact())) / float64(st.n)))
	}
	q := new(big.Rat).Quo(st.exact(), new(big.Rat).SetUint64(st.n))
	scale := int(f.Decimal)
	if scale > 30 {
		scale = 30
	}
	return []byte(q.FloatString(scale))
}

// Inputs implements Primitive: the input, then any type probes.
func (g *GroupAggregate) Inputs() []Primitive {
	in := []Primitive{g.Input}
	for _, p := range g.TypeProbes {
		in = append(in, p.Route)
	}
	return in
}

func (g *GroupAggregate) description() Description {
	variant := "Hash"
	if g.Scalar {
		variant = "Scalar"
	}
	d := Description{OperatorType: "Aggregate", Variant: variant, Other: map[string]any{}}
	aggs := []string{}
	for _, a := range g.Aggregates {
		s := a.Op.name() + "(" + colRef(a.Col) + ")"
		switch {
		case a.Op == AggrAvg:
			s += " from sum " + colRef(a.Sum) + " count " + colRef(a.Count)
		case a.Op == AggrGroupConcat:
			s += " of " + describeConcat(a.Concat)
		case a.Op == AggrCountDistinct || a.Op == AggrSumDistinct || a.Op == AggrAvgDistinct:
			s += " of " + colRef(a.Distinct)
			if a.DistinctWeight != NoWeight {
				s += " weight_string " + colRef(a.DistinctWeight)
			}
			for _, k := range a.DistinctRest {
				s += ", " + colRef(k.Col) + " weight_string " + colRef(k.Weight)
			}
		case a.Weight != NoWeight:
			s += " weight_string " + colRef(a.Weight)
		}
		for _, c := range a.Companions {
			s += ", " + colRef(c) + " from its row"
		}
		aggs = append(aggs, s)
	}
	d.Other["Aggregates"] = aggs
	if len(g.Keys) > 0 {
		d.Other["GroupBy"] = describeGroupKeys(g.Keys)
	}
	if len(g.Computed) > 0 {
		d.Other["Computed"] = describeComputed(g.Computed)
	}
	if g.Rollup != nil {
		d.Other["Rollup"] = describeRollup(g.Keys, g.Rollup)
	}
	if g.HavingText != "" {
		d.Other["Having"] = g.HavingText
	}
	if len(g.Distinct) > 0 {
		d.Other["Distinct"] = describeGroupKeys(g.Distinct)
	}
	if len(g.Order) > 0 {
		d.Other["OrderBy"] = strings.Join(describeKeys(g.Order), ", ")
	}
	d.Other["ResultColumns"] = g.Visible
	return d
}

// describeGroupKeys renders grouping or DISTINCT keys for VEXPLAIN.
func describeGroupKeys(keys []GroupKey) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		s := colRef(k.Col)
		if k.Weight != NoWeight {
			s += " weight_string " + colRef(k.Weight)
		}
		out = append(out, s)
	}
	return out
}

// describeComputed renders computed columns for VEXPLAIN.
func describeComputed(cols []ComputedColumn) []string {
	out := make([]string, 0, len(cols))
	for _, c := range cols {
		out = append(out, colRef(c.Col)+" = "+c.Text)
	}
	return out
}
