package engine

import (
	"context"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// joinBatch is how many distinct join values one inner-side query carries.
const joinBatch = 500

// JoinColumn is one output column of a Join: column Col of the outer
// (left) or inner (right) side (negative: from the end), or with Star the
// side's visible columns from Col on (its * after its explicit columns).
type JoinColumn struct {
	Right bool
	Col   int
	Star  bool
}

// Join is a nested-loop join at the gateway: it runs Left (a Route, or
// another Join for a chain of three or more tables), collects the
// distinct values of its join column, and runs Right once per batch of
// values with them in an IN list (routed by them when they are Right's
// vindex column), then pairs rows whose join values are equal (numbers by
// value, strings by weight_string). With Outer, a left row without a match
// is kept with NULLs (LEFT JOIN).
//
// With Cross there is no join column: Right runs once and every pair of
// rows is a candidate (a cross join, or a join on conditions other than
// an equality). On, when set, is the rest of the join condition, evaluated
// over each candidate pair (the left row's columns, then the right
// row's, hidden ones included): a pair joins only if it is true, so a
// LEFT JOIN keeps its left row with NULLs when no pair passes. The pairs
// made count against the gateway's row budget.
type Join struct {
	Left  Primitive
	Right *Route
	Outer bool
	// LeftKey/RightKey are the join columns, with their weight_string
	// columns; LeftHidden/RightHidden count the hidden columns at the end
	// of each side (excluded from a Star).
	LeftKey, RightKey       GroupKey
	LeftHidden, RightHidden int
	// RightVindex is set when the right join column is Right's primary
	// vindex column: each batch goes only to the shards owning its values.
	RightVindex bool
	Cols        []JoinColumn
	// MoreKeys are further equalities of columns of the join condition
	// (a composite key, `a.x = b.x and a.y = b.y`): pairs must be equal
	// on them too, compared as the first key is.
	MoreKeys []JoinKeyPair
	Cross    bool
	On       Expr
	// OnText is On as written, for VEXPLAIN.
	OnText string
}

var _ Primitive = (*Join)(nil)

// Execute implements Primitive.
func (j *Join) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	left, err := j.Left.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	if len(left.Fields) == 0 {
		return nil, errInternal("join: outer side returned no columns")
	}
	if j.Cross {
		d, err := j.Right.Routing.resolve(ctx, vc, args)
		if err != nil {
			return nil, err
		}
		if len(d.shards) == 0 {
			// No shard can have rows: one still says what the columns are.
			if d, err = j.anyShard(ctx, vc); err != nil {
				return nil, err
			}
		}
		right, err := j.runRightOn(ctx, vc, args, d, nil)
		if err != nil {
			return nil, err
		}
		all := make([]int, len(right.Rows))
		for i := range all {
			all[i] = i
		}
		return j.pair(ctx, vc, args, left, right, func(int) []int { return all })
	}
	lk := GroupKey{Col: resolveColumn(j.LeftKey.Col, len(left.Fields)), Weight: resolveColumn(j.LeftKey.Weight, len(left.Fields))}
	if lk.Col < 0 || lk.Weight < 0 {
		return nil, errInternal("join: outer side returned %d columns", len(left.Fields))
	}
	lkinds := columnKinds(left.Fields)
	lpads := padsOf(left.Fields)
	// Distinct join values, as SQL literals.
	seen := map[string]bool{}
	var vals []Value
	lkeys := make([]string, len(left.Rows))
	var lmore []GroupKey
	for _, m := range j.MoreKeys {
		l, ok := resolveKey(m.Left, len(left.Fields))
		if !ok {
			return nil, errInternal("join: outer side returned %d columns", len(left.Fields))
		}
		lmore = append(lmore, l)
	}
	for i, row := range left.Rows {
		if row[lk.Col] == nil {
			lkeys[i] = ""
			continue
		}
		k, err := appendGroupKey(nil, row, lk, lkinds, lpads)
		if err != nil {
			return nil, err
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			vals = append(vals, literalOf(row[lk.Col], lkinds[lk.Col]))
		}
		k, null, err := j.appendMoreKeys(k, row, lmore, lkinds, lpads)
		if err != nil {
			return nil, err
		}
		if !null {
			lkeys[i] = string(k)
		}
	}
	right, err := j.runRight(ctx, vc, args, vals)
	if err != nil {
		return nil, err
	}
	rk := GroupKey{Col: resolveColumn(j.RightKey.Col, len(right.Fields)), Weight: resolveColumn(j.RightKey.Weight, len(right.Fields))}
	if rk.Col < 0 || rk.Weight < 0 {
		return nil, errInternal("join: inner side returned %d columns", len(right.Fields))
	}
	if err := sameComparison(left.Fields[lk.Col], right.Fields[rk.Col]); err != nil {
		return nil, err
	}
	lmore, rmore, err := j.moreKeys(len(left.Fields), len(right.Fields))
	if err != nil {
		return nil, err
	}
	for i := range lmore {
		if err := sameComparison(left.Fields[lmore[i].Col], right.Fields[rmore[i].Col]); err != nil {
			return nil, err
		}
	}
	rkinds := columnKinds(right.Fields)
	rpads := padsOf(right.Fields)
	index := map[string][]int{}
	for i, row := range right.Rows {
		if row[rk.Col] == nil {
			continue
		}
		k, err := appendGroupKey(nil, row, rk, rkinds, rpads)
		if err != nil {
			return nil, err
		}
		k, null, err := j.appendMoreKeys(k, row, rmore, rkinds, rpads)
		if err != nil {
			return nil, err
		}
		if !null {
			index[string(k)] = append(index[string(k)], i)
		}
	}
	return j.pair(ctx, vc, args, left, right, func(i int) []int {
		if lkeys[i] == "" {
			return nil
		}
		return index[lkeys[i]]
	})
}

// pairCheck is how many candidate pairs are tried between two looks at
// the statement's context (a cross join may try many without output).
const pairCheck = 1 << 14

// pair makes the joined rows: each left row with the right rows
// candidates names that pass On, or with NULLs when none does and the
// join is Outer.
func (j *Join) pair(ctx context.Context, vc VCursor, args []any, left, right *Result, candidates func(int) []int) (*Result, error) {
	out := &Result{Fields: j.fields(left.Fields, right.Fields), Warnings: addWarnings(left.Warnings, right.Warnings)}
	nullRight := make([][]byte, len(right.Fields))
	var kinds []sortKind
	var both [][]byte
	if j.On != nil {
		kinds = append(columnKinds(left.Fields), columnKinds(right.Fields)...)
		both = make([][]byte, len(left.Fields)+len(right.Fields))
	}
	count := rowCounter{vc: vc}
	tried := 0
	for i, lrow := range left.Rows {
		matched := false
		for _, m := range candidates(i) {
			if j.On != nil {
				if tried++; tried%pairCheck == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				copy(both, lrow)
				copy(both[len(lrow):], right.Rows[m])
				v, err := j.On(both, kinds, args)
				if err != nil {
					return nil, err
				}
				if t, null := v.truth(); !t || null {
					continue
				}
			}
			matched = true
			if err := count.add(); err != nil {
				return nil, err
			}
			out.Rows = append(out.Rows, j.row(lrow, right.Rows[m]))
		}
		if !matched && j.Outer {
			if err := count.add(); err != nil {
				return nil, err
			}
			out.Rows = append(out.Rows, j.row(lrow, nullRight))
		}
	}
	return out, count.flush()
}

// JoinKeyPair is one more equality of a Join's condition: column Left of
// the outer side equal to column Right of the inner side.
type JoinKeyPair struct {
	Left, Right GroupKey
}

// resolveKey resolves a key's columns counted from the end; ok is false
// when one is out of range.
func resolveKey(k GroupKey, n int) (GroupKey, bool) {
	r := GroupKey{Col: resolveColumn(k.Col, n), Weight: resolveColumn(k.Weight, n)}
	return r, r.Col >= 0 && r.Col < n && r.Weight >= 0 && r.Weight < n
}

// appendMoreKeys appends a row's values of the further keys (left or
// right columns of MoreKeys) to its join key; null says one is NULL,
// which matches nothing.
func (j *Join) appendMoreKeys(key []byte, row [][]byte, keys []GroupKey, kinds []sortKind, pads []bool) ([]byte, bool, error) {
	for _, k := range keys {
		if row[k.Col] == nil {
			return nil, true, nil
		}
		var err error
		if key, err = appendGroupKey(key, row, k, kinds, pads); err != nil {
			return nil, false, err
		}
	}
	return key, false, nil
}

// moreKeys resolves MoreKeys against the two sides' widths.
func (j *Join) moreKeys(nl, nr int) (left, right []GroupKey, err error) {
	for _, m := range j.MoreKeys {
		l, ok1 := resolveKey(m.Left, nl)
		r, ok2 := resolveKey(m.Right, nr)
		if !ok1 || !ok2 {
			return nil, nil, errInternal("join: key columns out of range (%d and %d columns)", nl, nr)
		}
		left, right = append(left, l), append(right, r)
	}
	return left, right, nil
}

// sameComparison refuses to pair values the gateway would compare
// differently from MySQL: columns of different kinds (a number and a
// string, a DECIMAL and a DOUBLE) or strings of different collations.
func sameComparison(a, b *mysql.Field) error {
	ka, kb := sortKindOf(a), sortKindOf(b)
	if ka != kb || (ka == sortWeight && a.Charset != b.Charset) {
		return unsupportedf("comparing columns %s and %s of different types or collations across shards", a.Name, b.Name)
	}
	return nil
}

func padsOf(fields []*mysql.Field) []bool {
	p := make([]bool, len(fields))
	for i, f := range fields {
		p[i] = padSpace(f)
	}
	return p
}

// literalOf writes a value read from a shard back as a SQL literal.
func literalOf(v []byte, kind sortKind) Value {
	if kind == sortDecimal {
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return Value{Param: -1, Val: n, Mappable: true, SQL: string(v)}
		}
		if n, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			return Value{Param: -1, Val: n, Mappable: true, SQL: string(v)}
		}
		return Value{Param: -1, SQL: string(v)}
	}
	if kind == sortFloat {
		return Value{Param: -1, SQL: string(v) + "e0"}
	}
	return Value{Param: -1, Val: string(v), Mappable: true, SQL: QuoteString(string(v))}
}

// runRight runs the inner side for the join values, in batches.
func (j *Join) runRight(ctx context.Context, vc VCursor, args []any, vals []Value) (*Result, error) {
	if len(vals) == 0 {
		// No values: the inner side only has to say what its columns are.
		d, err := j.anyShard(ctx, vc)
		if err != nil {
			return nil, err
		}
		return j.runRightOn(ctx, vc, args, d, []Value{{Param: -1, SQL: "null"}})
	}
	var all []*Result
	for start := 0; start < len(vals); start += joinBatch {
		batch := vals[start:min(start+joinBatch, len(vals))]
		rt := j.Right.Routing
		var d destinations
		var err error
		if j.RightVindex && rt.Opcode == Scatter {
			rt.Opcode, rt.Values = IN, batch
			d, err = rt.resolve(ctx, vc, args)
		} else {
			d, err = rt.resolve(ctx, vc, args)
			d.vals = nil
		}
		if err != nil {
			return nil, err
		}
		r, err := j.runRightOn(ctx, vc, args, d, batch)
		if err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	return concatResults(all), nil
}

// anyShard is the first serving shard of the inner side's keyspace.
func (j *Join) anyShard(ctx context.Context, vc VCursor) (destinations, error) {
	ss, err := vc.Shards(ctx, j.Right.Keyspace)
	if err != nil {
		return destinations{}, err
	}
	if len(ss) == 0 {
		return destinations{}, errNoShards(j.Right.Keyspace)
	}
	return destinations{shards: []string{ss[0].Name}}, nil
}

func (j *Join) runRightOn(ctx context.Context, vc VCursor, args []any, d destinations, vals []Value) (*Result, error) {
	qs := make([]string, len(d.shards))
	for i := range d.shards {
		env := renderEnv{args: args, vals: vals}
		if d.vals != nil {
			env.vals = d.vals[i]
		}
		q, err := j.Right.Query.render(&env)
		if err != nil {
			return nil, err
		}
		qs[i] = q
	}
	rs, err := vc.ExecuteMulti(ctx, j.Right.Keyspace, d.shards, qs)
	if err != nil {
		return nil, err
	}
	return concatResults(rs), nil
}

func (j *Join) fields(lf, rf []*mysql.Field) []*mysql.Field {
	var out []*mysql.Field
	for _, c := range j.Cols {
		fs, hidden := lf, j.LeftHidden
		if c.Right {
			fs, hidden = rf, j.RightHidden
		}
		if c.Star {
			out = append(out, fs[c.Col:len(fs)-hidden]...)
			continue
		}
		out = append(out, fs[resolveColumn(c.Col, len(fs))])
	}
	return out
}

func (j *Join) row(l, r [][]byte) [][]byte {
	out := make([][]byte, 0, len(j.Cols))
	for _, c := range j.Cols {
		vs, hidden := l, j.LeftHidden
		if c.Right {
			vs, hidden = r, j.RightHidden
		}
		if c.Star {
			out = append(out, vs[c.Col:len(vs)-hidden]...)
			continue
		}
		out = append(out, vs[resolveColumn(c.Col, len(vs))])
	}
	return out
}

// Stream implements Primitive (the join is built in memory).
func (j *Join) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, j, vc, args, fn)
}

// Inputs implements Primitive.
func (j *Join) Inputs() []Primitive { return []Primitive{j.Left, j.Right} }

func (j *Join) description() Description {
	variant := "Join"
	if j.Outer {
		variant = "LeftJoin"
	}
	cols := make([]string, len(j.Cols))
	for i, c := range j.Cols {
		side := "L"
		if c.Right {
			side = "R"
		}
		if c.Star {
			cols[i] = side + ":*"
		} else {
			cols[i] = side + ":" + strconv.Itoa(c.Col)
		}
	}
	d := Description{OperatorType: "Join", Variant: variant, Other: map[string]any{
		"Columns": cols,
	}}
	if j.Cross {
		d.Other["Cross"] = true
	} else {
		jc := colRef(j.LeftKey.Col) + " = " + colRef(j.RightKey.Col)
		for _, m := range j.MoreKeys {
			jc += " and " + colRef(m.Left.Col) + " = " + colRef(m.Right.Col)
		}
		d.Other["JoinColumns"] = jc
		d.Other["BatchSize"] = joinBatch
	}
	if j.On != nil {
		d.Other["On"] = j.OnText
	}
	if j.RightVindex {
		d.Other["RightRoutedByJoinValues"] = true
	}
	return d
}
