package planner

import (
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// plan plans the outer query's clauses over the derived rows (see
// build_derived_rows.go), then the derived statement and the type probe.
func (p *rowsPlan) plan() (engine.Primitive, error) {
	sel := p.sel
	p.weights = map[int]int{}
	expandDerivedStars(sel, p.alias, p.names)
	if p.join != nil {
		p.collectTableColumns()
	}
	if err := keepFieldNames(sel); err != nil {
		return nil, err
	}
	probe, err := p.probeQuery()
	if err != nil {
		return nil, err
	}
	ar := &engine.AggregateRows{}
	fields := sel.Fields.Fields
	p.visible = len(fields)
	p.grouped = sel.GroupBy != nil || sel.Having != nil
	for range fields {
		p.addOut(engine.RowsColumn{Col: engine.NoColumn, Weight: engine.NoWeight}, nil)
	}
	var exprCols []int
	for i, f := range fields {
		switch x := unparen(f.Expr).(type) {
		case *ast.ColumnNameExpr:
			in, err := p.inputOf(x, "field list")
			if err != nil {
				return nil, err
			}
			p.out[i], p.outExpr[i] = engine.RowsColumn{Col: in, Weight: engine.NoWeight}, x
		case *ast.AggregateFuncExpr:
			c, err := p.aggregate(x)
			if err != nil {
				return nil, err
			}
			p.out[i], p.outExpr[i] = c, x
		default:
			exprCols = append(exprCols, i)
		}
	}
	for _, i := range exprCols {
		// After the plain and aggregate columns, so that an expression
		// reading them finds them rather than adding hidden copies.
		p.outExpr[i] = fields[i].Expr
		fn, err := compileIn(fields[i].Expr, p.leaf, "the select list")
		if err != nil {
			return nil, err
		}
		text, _ := restore(fields[i].Expr)
		p.computed = append(p.computed, engine.ComputedColumn{Col: i, Expr: fn, Text: text})
	}
	var terms []ast.ExprNode
	var key [2]*ast.ColumnNameExpr
	if p.join != nil {
		if key, terms, err = p.joinTerms(); err != nil {
			return nil, err
		}
	} else {
		terms = splitAnd(sel.Where, nil)
	}
	var filter *engine.Filter
	if len(terms) > 0 {
		filter = &engine.Filter{}
		if filter.Predicate, err = p.filter(terms); err != nil {
			return nil, err
		}
		filter.Text, _ = restore(andAll(terms))
	}
	if ar.Keys, err = p.groupKeys(); err != nil {
		return nil, err
	}
	ar.Scalar = p.grouped && sel.GroupBy == nil && len(ar.Keys) == 0
	if sel.Having != nil {
		fn, err := compileExpr(sel.Having.Expr, p.havingLeaf)
		if err != nil {
			return nil, err
		}
		ar.Having = fn
		ar.HavingText, _ = restore(sel.Having.Expr)
	}
	if sel.OrderBy != nil {
		if ar.Order, err = p.orderKeys(); err != nil {
			return nil, err
		}
	}
	var lcol, lweight int
	if p.join != nil {
		// The join key's weight is asked for before the derived statement
		// is planned.
		if lcol, lweight, err = p.joinKey(key[0]); err != nil {
			return nil, err
		}
	}
	input, err := p.planInput()
	if err != nil {
		return nil, err
	}
	if p.join != nil {
		if input, err = p.joinInput(input, key[1], lcol, lweight); err != nil {
			return nil, err
		}
	}
	if filter != nil {
		filter.Input, input = input, filter
	}
	ar.Input, ar.Probe = input, probe
	ar.Columns, ar.Computed, ar.Visible = p.out, p.computed, p.visible
	if p.rollupDesc != nil {
		if ar.Rollup, err = p.rollup(ar.Keys); err != nil {
			return nil, err
		}
	}
	var top engine.Primitive = ar
	if sel.Limit != nil {
		l, err := limitOf(sel.Limit)
		if err != nil {
			return nil, err
		}
		top = &engine.Limit{Input: top, Spec: *l}
	}
	return top, nil
}

// filter compiles the outer WHERE over the input's columns: each AND-ed
// term that reads no aggregate of a derived SELECT is computed by the
// shards in a column of its own (exact in any collation); the others
// are evaluated by the gateway.
func (p *rowsPlan) filter(terms []ast.ExprNode) (engine.Expr, error) {
	var out engine.Expr
	for _, term := range terms {
		var fn engine.Expr
		if p.inner != nil && p.readsDerivedOnly(term) {
			sub, err := p.substitute(term)
			if err != nil {
				return nil, err
			}
			if !findOwn(sub, isAggregate) {
				fn = engine.ColumnExpr(p.addInner(sub))
			}
		}
		if fn == nil {
			var err error
			fn, err = compileIn(term, func(e ast.ExprNode) (int, error) { return p.inputOf(e, "where clause") }, "WHERE")
			if err != nil {
				return nil, err
			}
		}
		if out == nil {
			out = fn
		} else {
			out = engine.BinaryExpr(engine.OpAnd, out, fn)
		}
	}
	return out, nil
}

// groupKeys are the outer GROUP BY's (or DISTINCT's) input columns.
func (p *rowsPlan) groupKeys() ([]engine.GroupKey, error) {
	sel := p.sel
	var items []ast.ExprNode
	switch {
	case sel.GroupBy != nil:
		if isDistinct(sel) {
			return nil, unsupported("DISTINCT with GROUP BY across shards")
		}
		if sel.GroupBy.Rollup && sel.OrderBy != nil {
			return nil, sqlerror.New(sqlerror.User, mysql.ER_WRONG_USAGE, "Incorrect usage of CUBE/ROLLUP and ORDER BY")
		}
		for _, it := range sel.GroupBy.Items {
			items = append(items, it.Expr)
			if sel.GroupBy.Rollup {
				p.rollupDesc = append(p.rollupDesc, it.Desc)
			}
		}
	case isDistinct(sel) && !p.grouped:
		// DISTINCT a, b is GROUP BY a, b.
		for i := 0; i < p.visible; i++ {
			items = append(items, &ast.PositionExpr{N: i + 1})
		}
		p.grouped = true
	}
	var keys []engine.GroupKey
	for _, e := range items {
		in := -1
		switch x := e.(type) {
		case *paramMarker:
			return nil, unsupported("GROUP BY a parameter across shards")
		case *ast.PositionExpr:
			if x.P != nil || x.N < 1 || x.N > p.visible {
				return nil, sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%d' in 'group statement'", x.N)
			}
			c := p.out[x.N-1]
			if c.Aggregate {
				return nil, sqlerror.New(sqlerror.User, mysql.ER_WRONG_GROUP_FIELD, "Can't group on '%s'", fieldName(p.sel.Fields.Fields[x.N-1]))
			}
			in = c.Col
			if in == engine.NoColumn {
				if in, err := p.inputOf(p.sel.Fields.Fields[x.N-1].Expr, "group statement"); err == nil {
					keys = append(keys, engine.GroupKey{Col: in, Weight: p.weight(in)})
					continue
				}
				return nil, unsupported("GROUP BY or DISTINCT over an expression of a grouped, DISTINCT or LIMITed derived table or a derived UNION across shards")
			}
		case *ast.ColumnNameExpr:
			if in = p.input(x.Name); in < 0 && x.Name.Table.O == "" {
				if i := p.aliasAt(x.Name.Name.L); i >= 0 && !p.out[i].Aggregate && p.out[i].Col != engine.NoColumn {
					in = p.out[i].Col
				}
			}
			if in < 0 {
				return nil, errUnknownColumn(x.Name, "group statement")
			}
		default:
			var err error
			if in, err = p.inputOf(e, "group statement"); err != nil {
				return nil, err
			}
		}
		keys = append(keys, engine.GroupKey{Col: in, Weight: p.weight(in)})
	}
	return keys, nil
}

// aliasAt is the visible column named name by its alias, or -1.
func (p *rowsPlan) aliasAt(name string) int {
	for i, f := range p.sel.Fields.Fields {
		if f.AsName.O != "" && f.AsName.L == name {
			return i
		}
	}
	return -1
}

// havingLeaf maps a HAVING operand to a result column: an aggregate, a
// select alias, or a derived column.
func (p *rowsPlan) havingLeaf(e ast.ExprNode) (int, error) {
	if c, ok := e.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		if i := p.aliasAt(c.Name.Name.L); i >= 0 {
			return i, nil
		}
	}
	return p.leaf(e)
}

// orderKeys maps the outer ORDER BY to result columns, with hidden
// weight_string columns for strings.
func (p *rowsPlan) orderKeys() ([]engine.OrderKey, error) {
	var keys []engine.OrderKey
	for _, item := range p.sel.OrderBy.Items {
		e := item.Expr
		if v, ok := e.(*valueExpr); ok && v.val == nil {
			continue
		}
		col := -1
		switch x := e.(type) {
		case ast.ValueExpr:
			return nil, unsupported("ORDER BY a constant across shards")
		case *ast.PositionExpr:
			if x.P != nil || x.N < 1 || x.N > p.visible {
				return nil, sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%d' in 'order clause'", x.N)
			}
			col = x.N - 1
		case *ast.ColumnNameExpr:
			if x.Name.Table.O == "" {
				col = p.aliasAt(x.Name.Name.L)
			}
			if col < 0 {
				in := p.input(x.Name)
				if in < 0 {
					return nil, errUnknownColumn(x.Name, "order clause")
				}
				col = p.plainOut(in)
			}
		case *ast.AggregateFuncExpr:
			var err error
			if col, err = p.aggregateOut(x); err != nil {
				return nil, err
			}
		default:
			for i := 0; i < p.visible; i++ {
				if p.outExpr[i] != nil && sameExpr(p.outExpr[i], e) {
					col = i
				}
			}
			if col < 0 {
				var err error
				if col, err = p.computedOut(e, "ORDER BY"); err != nil {
					return nil, err
				}
			}
		}
		keys = append(keys, engine.OrderKey{Col: col, Weight: p.outWeight(col), Desc: item.Desc})
	}
	return keys, nil
}

// outWeight is the result column holding the weight_string of result
// column col: a hidden copy of its input's weight, or of a MIN/MAX
// winner's; NoWeight for numbers and computed values.
func (p *rowsPlan) outWeight(col int) int {
	c := p.out[col]
	switch {
	case !c.Aggregate && c.Col != engine.NoColumn:
		w := p.weight(c.Col)
		if w == engine.NoWeight {
			return w
		}
		return p.plainOut(w)
	case c.Aggregate && (c.Op == engine.AggrMin || c.Op == engine.AggrMax) && c.Weight != engine.NoWeight:
		wc := c
		wc.WinnerWeight = true
		return p.addOut(wc, nil)
	}
	return engine.NoWeight
}

// planInput plans the derived statement with the columns added to it.
func (p *rowsPlan) planInput() (engine.Primitive, error) {
	if p.inner != nil {
		return p.b.buildSelect(p.inner)
	}
	prim, err := p.b.buildUnion(p.union)
	if err != nil || !p.distinct {
		return prim, err
	}
	c, ok := prim.(*engine.Concatenate)
	if l, isLimit := prim.(*engine.Limit); isLimit {
		c, ok = l.Input.(*engine.Concatenate)
	}
	if !ok {
		return nil, errInternal("a derived UNION DISTINCT planned as %T", prim)
	}
	c.KeepHidden = true
	return prim, nil
}

// probeQuery is the query learning the result's column types and names:
// the outer query with WHERE 1 != 1, on any one shard of the keyspace
// of the derived statement's tables.
func (p *rowsPlan) probeQuery() (*engine.Route, error) {
	cp, err := p.b.cloneNode(p.sel)
	if err != nil {
		return nil, err
	}
	q := cp.(*ast.SelectStmt) // named as the client named them: keepFieldNames ran
	q.Where = &ast.BinaryOperationExpr{Op: opcode.NE, L: newValueExpr(int64(1), "", ""), R: newValueExpr(int64(1), "", "")}
	q.OrderBy, q.Limit = nil, nil
	var rt engine.Routing
	for i, tn := range collectTables(q) {
		ref, err := p.b.resolveTable(tn)
		if err != nil {
			return nil, err
		}
		if ref.system || ref.ks == nil {
			return nil, unsupported("a query joining system schema tables with sharded tables")
		}
		if i > 0 && ref.ks.Name != rt.Keyspace {
			return nil, unsupportedf("a query across keyspaces %s and %s", rt.Keyspace, ref.ks.Name)
		}
		rt = engine.Routing{Opcode: engine.Unsharded, Keyspace: ref.ks.Name, Table: tn.Name.O}
		if ref.ks.Sharded {
			rt.Opcode, rt.Sharded = engine.Reference, true // any one shard
		}
	}
	if rt.Keyspace == "" {
		return nil, errInternal("a derived table without tables")
	}
	tmpl, err := render(q)
	if err != nil {
		return nil, err
	}
	return &engine.Route{Routing: rt, Query: tmpl}, nil
}

// rollup plans WITH ROLLUP over the derived rows (engine.Rollup): the
// result columns copying a grouping key (or its weight) are NULL in the
// rows that roll it up; expressions of them are computed at the gateway
// from those columns, so they see the NULL, as in MariaDB. Another plain
// column (a derived column, or an expression the shards compute per row)
// would keep its value where MariaDB computes it from the NULL: refused.
func (p *rowsPlan) rollup(keys []engine.GroupKey) (*engine.Rollup, error) {
	r := &engine.Rollup{Desc: p.rollupDesc, Nulls: make([][]int, len(keys))}
	covered := map[int]bool{}
	for k, key := range keys {
		for i, c := range p.out {
			if !c.Aggregate && c.Col != engine.NoColumn && (c.Col == key.Col || (key.Weight != engine.NoWeight && c.Col == key.Weight)) {
				r.Nulls[k] = append(r.Nulls[k], i)
				covered[i] = true
			}
		}
	}
	for i, c := range p.out {
		if !c.Aggregate && c.Col != engine.NoColumn && !covered[i] {
			return nil, unsupported("columns other than GROUP BY columns and aggregates with WITH ROLLUP over a derived table across shards")
		}
	}
	return r, nil
}
