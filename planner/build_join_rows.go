package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
)

// The rows of a chain of joins at the gateway: the Routes and Joins
// (buildChain), the conditions evaluated over the joined pairs and rows,
// and the select list and ORDER BY over them (plainChain).

// stepKey is the hidden columns of one equality of a step: the left
// value and weight in an earlier group, the right ones in the step's.
type stepKey struct{ lk, lw, rk, rw chainCol }

// keys adds the hidden join key columns of every step joined on
// equalities: by group, the first key, then any more.
func (c *chain) keys() [][]stepKey {
	out := make([][]stepKey, len(c.groups))
	for _, g := range c.order[1:] {
		st := c.steps[g]
		if !st.set {
			continue
		}
		for _, k := range append([]chainKey{{left: st.left, right: st.right, leftGroup: st.leftGroup}}, st.more...) {
			out[g] = append(out[g], stepKey{
				lk: c.add(k.leftGroup, &ast.SelectField{Expr: k.left}),
				lw: c.add(k.leftGroup, &ast.SelectField{Expr: weightOf(k.left)}),
				rk: c.add(g, &ast.SelectField{Expr: k.right}),
				rw: c.add(g, &ast.SelectField{Expr: weightOf(k.right)}),
			})
		}
	}
	return out
}

// stepConditions prepares the conditions each step evaluates over its
// pairs; a group joined before a step by a LEFT JOIN may be
// NULL-extended there.
func (b *builder) stepConditions(c *chain) (map[int]*rowExpr, error) {
	out := map[int]*rowExpr{}
	for g, terms := range c.on {
		if len(terms) == 0 {
			continue
		}
		step := c.pos[g]
		rx, err := b.rewriteOverRows(c, andAll(terms), func(h int) bool { return c.leftGroup[h] && c.pos[h] < step })
		if err != nil {
			return nil, err
		}
		out[g] = rx
	}
	return out, nil
}

// buildChain turns the groups into Routes chained by Joins whose last one
// delivers out; ons are the steps' conditions (stepConditions).
func (b *builder) buildChain(c *chain, out []chainCol, ons map[int]*rowExpr) (*engine.Join, error) {
	keys := c.keys()
	for g, sd := range c.groups {
		if len(sd.fields) == 0 {
			// A group read only for its rows (a cross join's): one
			// constant column, so its query has a select list.
			c.add(g, &ast.SelectField{Expr: newValueExpr(int64(1), "", "")})
		}
	}
	offs := make([]int, len(c.groups)) // by group: its first column in the rows so far
	n := 0
	for _, g := range c.order {
		offs[g] = n
		n += len(c.groups[g].fields)
	}
	at := func(cc chainCol) int { return offs[cc.group] + cc.idx }
	var left engine.Primitive
	var top *engine.Join
	for k, g := range c.order {
		sd := c.groups[g]
		keyed := k > 0 && c.steps[g].set
		var where []ast.ExprNode
		where = append(where, sd.where...)
		if keyed {
			where = append(where, &ast.PatternInExpr{Expr: c.steps[g].right, List: []ast.ExprNode{newHoleExpr(engine.HoleValsText)}})
		}
		q := &ast.SelectStmt{
			Kind:           ast.SelectStmtKindSelect,
			SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
			Fields:         &ast.FieldList{Fields: sd.fields},
			From:           &ast.TableRefsClause{TableRefs: sd.from().(*ast.Join)},
			Where:          andAll(where),
			LockInfo:       sd.lock,
		}
		rt, err := b.sideRouting(sd, q, !keyed)
		if err != nil {
			return nil, err
		}
		rightVindex := keyed && c.routedBy(g, c.steps[g].right)
		if rightVindex {
			_, vx, _ := primaryVindex(sd.ref.table)
			rt.Vindex = vx
		}
		tmpl, err := render(q)
		if err != nil {
			return nil, err
		}
		route := &engine.Route{Routing: rt, Query: tmpl}
		if k == 0 {
			left = route
			continue
		}
		jn := &engine.Join{Left: left, Right: route, Outer: c.leftGroup[g], RightVindex: rightVindex, Cross: !keyed}
		if keyed {
			for i, k := range keys[g] {
				l := engine.GroupKey{Col: at(k.lk), Weight: at(k.lw)}
				r := engine.GroupKey{Col: k.rk.idx, Weight: k.rw.idx}
				if i == 0 {
					jn.LeftKey, jn.RightKey = l, r
				} else {
					jn.MoreKeys = append(jn.MoreKeys, engine.JoinKeyPair{Left: l, Right: r})
				}
			}
		}
		if rx := ons[g]; rx != nil {
			if jn.On, err = rx.compile(at); err != nil {
				return nil, err
			}
			jn.OnText = rx.text
		}
		if k < len(c.order)-1 {
			for i := 0; i < offs[g]; i++ {
				jn.Cols = append(jn.Cols, engine.JoinColumn{Col: i})
			}
			for i := range sd.fields {
				jn.Cols = append(jn.Cols, engine.JoinColumn{Right: true, Col: i})
			}
		} else {
			for _, cc := range out {
				if cc.group == g {
					jn.Cols = append(jn.Cols, engine.JoinColumn{Right: true, Col: cc.idx})
				} else {
					jn.Cols = append(jn.Cols, engine.JoinColumn{Col: at(cc)})
				}
			}
		}
		left, top = jn, jn
	}
	return top, nil
}

// chainRows is the chain's joined rows with columns out, its WHERE terms
// over NULL-extended groups applied (the input of a grouping).
func (b *builder) chainRows(c *chain, out []chainCol) (engine.Primitive, error) {
	ons, err := b.stepConditions(c)
	if err != nil {
		return nil, err
	}
	if len(c.post) == 0 {
		return b.buildChain(c, out, ons)
	}
	post, err := b.rewriteOverRows(c, andAll(c.post), func(g int) bool { return c.leftGroup[g] })
	if err != nil {
		return nil, err
	}
	n := len(out)
	place := map[chainCol]int{}
	for _, cc := range post.cols() {
		if _, ok := place[cc]; !ok {
			place[cc] = len(out)
			out = append(out, cc)
		}
	}
	jn, err := b.buildChain(c, out, ons)
	if err != nil {
		return nil, err
	}
	pred, err := post.compile(func(cc chainCol) int { return place[cc] })
	if err != nil {
		return nil, err
	}
	return &engine.Filter{Input: jn, Predicate: pred, Text: post.text, Trim: len(out) - n}, nil
}

// projectedChainRows is the chain's joined rows as columns cols, its
// steps' conditions and WHERE terms over NULL-extended groups applied.
func (b *builder) projectedChainRows(c *chain, cols []rowsColumn) (engine.Primitive, error) {
	ons, err := b.stepConditions(c)
	if err != nil {
		return nil, err
	}
	var post *rowExpr
	if len(c.post) > 0 {
		if post, err = b.rewriteOverRows(c, andAll(c.post), func(g int) bool { return c.leftGroup[g] }); err != nil {
			return nil, err
		}
	}
	return b.projectedRows(c, cols, ons, post)
}

// rowsColumn is a column of the rows a chain delivers to its select list:
// a group's column, or an expression computed over the joined row.
type rowsColumn struct {
	col  chainCol
	expr *rowExpr
	// orig is the computed expression as written (for the type probe),
	// name its column name.
	orig ast.ExprNode
	name ast.CIStr
}

// needsGateway says whether select or ORDER BY expression e must be
// computed over the joined rows: it reads several groups, or it is more
// than a column of a LEFT JOINed group (whose query cannot know the
// value it takes on a NULL-extended row).
func (c *chain) needsGateway(e ast.ExprNode) (bool, error) {
	gs, err := c.groupsOf(e)
	if err != nil {
		return false, err
	}
	switch len(gs) {
	case 0:
		return false, nil
	case 1:
		if !c.leftGroup[gs[0]] {
			return false, nil
		}
		_, isCol := unparen(e).(*ast.ColumnNameExpr)
		return !isCol, nil
	}
	return true, nil
}

// plainChain plans a chain without grouping: the select list, then ORDER
// BY operands sorted at the gateway, then LIMIT. What only the joined
// rows can answer (expressions of several groups, WHERE terms over
// NULL-extended groups) is a Filter and a Projection over the last Join.
func (b *builder) plainChain(c *chain, sel *ast.SelectStmt) (engine.Primitive, error) {
	ons, err := b.stepConditions(c)
	if err != nil {
		return nil, err
	}
	afterJoin := func(g int) bool { return c.leftGroup[g] }
	var cols []rowsColumn
	computed := false
	column := func(e ast.ExprNode, name ast.CIStr) (rowsColumn, error) {
		gw, err := c.needsGateway(e)
		if err != nil || !gw {
			if err != nil {
				return rowsColumn{}, err
			}
			g, err := c.singleGroup(e, "expressions")
			if err != nil {
				return rowsColumn{}, err
			}
			return rowsColumn{col: c.add(g, &ast.SelectField{Expr: e, AsName: name})}, nil
		}
		rx, err := b.rewriteOverRows(c, e, afterJoin)
		if err != nil {
			return rowsColumn{}, err
		}
		computed = true
		return rowsColumn{expr: rx, orig: e, name: name}, nil
	}
	for _, f := range sel.Fields.Fields {
		rc, err := column(f.Expr, f.AsName)
		if err != nil {
			return nil, err
		}
		cols = append(cols, rc)
	}
	type orderCol struct {
		val, weight rowsColumn
		computed    bool
		desc        bool
	}
	var orders []orderCol
	if sel.OrderBy != nil {
		for _, item := range sel.OrderBy.Items {
			e := item.Expr
			if v, ok := e.(*valueExpr); ok && v.val == nil {
				continue
			}
			if p, ok := e.(*ast.PositionExpr); ok {
				if p.P != nil || p.N < 1 || p.N > len(sel.Fields.Fields) {
					return nil, unsupported("ORDER BY this position over a join across shards")
				}
				e = sel.Fields.Fields[p.N-1].Expr
			} else if cn, ok := e.(*ast.ColumnNameExpr); ok && cn.Name.Table.O == "" {
				for _, f := range sel.Fields.Fields {
					if strings.EqualFold(f.AsName.O, cn.Name.Name.O) {
						e = f.Expr
					}
				}
			}
			gs, err := c.groupsOf(e)
			if err != nil {
				return nil, err
			}
			if len(gs) == 0 {
				return nil, unsupported("ORDER BY a constant across shards")
			}
			gw, err := c.needsGateway(e)
			if err != nil {
				return nil, err
			}
			if gw {
				// Ordered by its computed value (a string result has no
				// weight: refused when sorted).
				v, err := column(e, ast.CIStr{})
				if err != nil {
					return nil, err
				}
				orders = append(orders, orderCol{val: v, computed: true, desc: item.Desc})
				continue
			}
			orders = append(orders, orderCol{
				val:    rowsColumn{col: c.add(gs[0], &ast.SelectField{Expr: e})},
				weight: rowsColumn{col: c.add(gs[0], &ast.SelectField{Expr: weightOf(e)})},
				desc:   item.Desc,
			})
		}
	}
	var post *rowExpr
	if len(c.post) > 0 {
		if post, err = b.rewriteOverRows(c, andAll(c.post), afterJoin); err != nil {
			return nil, err
		}
	}
	if !computed && post == nil {
		// Every column comes from a group's query: the last Join
		// delivers the select list and the sort keys.
		var out []chainCol
		for _, rc := range cols {
			out = append(out, rc.col)
		}
		var keys []engine.OrderKey
		n := 2 * len(orders)
		for i, o := range orders {
			out = append(out, o.val.col, o.weight.col)
			keys = append(keys, engine.OrderKey{Col: -(n - 2*i), Weight: -(n - 2*i - 1), Desc: o.desc})
		}
		jn, err := b.buildChain(c, out, ons)
		if err != nil {
			return nil, err
		}
		return sortAndLimit(jn, keys, n, sel.Limit)
	}
	// A Filter and a Projection make the select list and the sort keys
	// (value, and weight but for computed ones) from the joined rows.
	all := append([]rowsColumn(nil), cols...)
	var keys []engine.OrderKey
	hidden := 0
	for _, o := range orders {
		if o.computed {
			hidden++
		} else {
			hidden += 2
		}
	}
	at := -hidden
	for _, o := range orders {
		all = append(all, o.val)
		k := engine.OrderKey{Col: at, Weight: engine.NoWeight, Desc: o.desc}
		at++
		if !o.computed {
			all = append(all, o.weight)
			k.Weight = at
			at++
		}
		keys = append(keys, k)
	}
	proj, err := b.projectedRows(c, all, ons, post)
	if err != nil {
		return nil, err
	}
	return sortAndLimit(proj, keys, hidden, sel.Limit)
}

// projectedRows is the chain's joined rows as columns cols: the last Join
// delivers every group column they read, post (if any) filters them, and
// a Projection computes the expressions (typed by a field query).
func (b *builder) projectedRows(c *chain, cols []rowsColumn, ons map[int]*rowExpr, post *rowExpr) (engine.Primitive, error) {
	var out []chainCol
	place := map[chainCol]int{}
	need := func(cc chainCol) {
		if _, ok := place[cc]; !ok {
			place[cc] = len(out)
			out = append(out, cc)
		}
	}
	for _, rc := range cols {
		if rc.expr == nil {
			need(rc.col)
			continue
		}
		for _, cc := range rc.expr.cols() {
			need(cc)
		}
	}
	if post != nil {
		for _, cc := range post.cols() {
			need(cc)
		}
	}
	jn, err := b.buildChain(c, out, ons)
	if err != nil {
		return nil, err
	}
	idx := func(cc chainCol) int { return place[cc] }
	var input engine.Primitive = jn
	if post != nil {
		pred, err := post.compile(idx)
		if err != nil {
			return nil, err
		}
		input = &engine.Filter{Input: jn, Predicate: pred, Text: post.text}
	}
	proj := &engine.Projection{Input: input}
	var probeFields []*ast.SelectField
	var probeCols []int
	var probeExprs []ast.ExprNode
	for _, rc := range cols {
		if rc.expr == nil {
			proj.Cols = append(proj.Cols, engine.ProjectedColumn{Col: place[rc.col]})
			continue
		}
		fn, err := rc.expr.compile(idx)
		if err != nil {
			return nil, err
		}
		probeCols = append(probeCols, len(proj.Cols))
		probeFields = append(probeFields, &ast.SelectField{Expr: rc.orig, AsName: rc.name})
		probeExprs = append(probeExprs, rc.orig)
		proj.Cols = append(proj.Cols, engine.ProjectedColumn{Expr: fn, Text: rc.expr.text})
	}
	if len(probeFields) > 0 {
		probe, err := c.typeProbe(probeFields, probeCols, probeExprs)
		if err != nil {
			return nil, err
		}
		proj.TypeProbe = &probe
	}
	return proj, nil
}

// sortAndLimit puts the gateway's sort (dropping trim hidden columns) and
// LIMIT over rows made at the gateway.
func sortAndLimit(in engine.Primitive, keys []engine.OrderKey, trim int, limit *ast.Limit) (engine.Primitive, error) {
	top := in
	if len(keys) > 0 {
		top = &engine.MemorySort{Input: in, Keys: keys, Trim: trim}
	}
	if limit != nil {
		l, err := limitOf(limit)
		if err != nil {
			return nil, err
		}
		top = &engine.Limit{Input: top, Spec: *l}
	}
	return top, nil
}

// typeProbe is the field query that gives expressions over joined rows
// their types: the expressions over the tables they read, joined without
// condition, with WHERE 1 != 1 on any one shard (or the unsharded
// keyspace). The tables must share a keyspace.
func (c *chain) typeProbe(fields []*ast.SelectField, cols []int, exprs []ast.ExprNode) (engine.TypeProbe, error) {
	used := make([]bool, len(c.tables))
	for _, e := range exprs {
		for _, r := range columnsOf(e, "") {
			if t := c.tableOf(r.col.Table.O); t >= 0 {
				used[t] = true
			}
		}
	}
	var from ast.ResultSetNode
	var ks *tableRef
	for i, t := range c.tables {
		if !used[i] {
			continue
		}
		if ks == nil {
			ks = &c.tables[i].ref
		} else if ks.ks.Name != t.ref.ks.Name {
			return engine.TypeProbe{}, unsupportedf("expressions of columns of tables of keyspaces %s and %s over a join across shards", ks.ks.Name, t.ref.ks.Name)
		}
		if from == nil {
			from = &ast.Join{Left: t.ts}
		} else {
			from = &ast.Join{Left: from, Right: t.ts, Tp: ast.CrossJoin}
		}
	}
	if ks == nil {
		t := c.groups[c.order[0]]
		ks, from = &t.ref, t.from()
	}
	q := &ast.SelectStmt{
		Kind:           ast.SelectStmtKindSelect,
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Fields:         &ast.FieldList{Fields: fields},
		From:           &ast.TableRefsClause{TableRefs: from.(*ast.Join)},
		Where:          &ast.BinaryOperationExpr{Op: opcode.NE, L: newValueExpr(int64(1), "", ""), R: newValueExpr(int64(1), "", "")},
	}
	tmpl, err := render(q)
	if err != nil {
		return engine.TypeProbe{}, err
	}
	rt := engine.Routing{Opcode: engine.Unsharded, Keyspace: ks.ks.Name, Table: ks.node.Name.O}
	if ks.ks.Sharded {
		rt.Opcode, rt.Sharded = engine.Reference, true // any one shard
	}
	return engine.TypeProbe{Route: &engine.Route{Routing: rt, Query: tmpl}, Cols: cols}, nil
}
