package planner

import (
	"reflect"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/engine"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/sqlerror"
)

// Joins of tables that are not pinned to one shard: pushed down whole when
// every sharded table is tied to the others by equal primary vindex
// columns (rows that join live on the same shard), else a nested-loop
// Join at the gateway for two tables.

// colocatedJoin plans a join whose sharded tables are all connected by
// equalities of their primary vindex columns (same vindex type), plus any
// reference tables of the keyspace, as one query per shard with the
// single-table merging on top. ok is false when it does not apply.
func (b *builder) colocatedJoin(sel *ast.SelectStmt, p placement) (engine.Primitive, bool, error) {
	v := &pinCollector{}
	sel.Accept(v)
	if v.bad || len(v.scopes) != 1 {
		return nil, false, nil
	}
	sc := v.scopes[0]
	var sharded []*source
	for i := range sc.srcs {
		ref, ok := refOf(p, sc.srcs[i].node)
		if !ok || ref.ks == nil || !ref.ks.Sharded {
			return nil, false, nil
		}
		sc.srcs[i].src.ref = ref
		if ref.table.Type == "reference" {
			continue
		}
		if _, _, ok := primaryVindex(ref.table); !ok {
			return nil, false, nil
		}
		sharded = append(sharded, &sc.srcs[i].src)
	}
	if len(sharded) == 0 {
		return nil, false, nil
	}
	// Union-find over vindex-column equalities.
	parent := make([]int, len(sharded))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	eqs := append(splitAnd(sc.where, nil), sc.on...)
	for _, e := range eqs {
		be, ok := unparen(e).(*ast.BinaryOperationExpr)
		if !ok || be.Op != opcode.EQ {
			continue
		}
		for i, a := range sharded {
			for j, c := range sharded {
				if i == j {
					continue
				}
				ca, va, _ := primaryVindex(a.ref.table)
				cc, vc, _ := primaryVindex(c.ref.table)
				if va.Type() != vc.Type() {
					continue
				}
				if isVindexColumn(be.L, a, false, ca) && isVindexColumn(be.R, c, false, cc) {
					parent[find(i)] = find(j)
				}
			}
		}
	}
	for i := range sharded {
		if find(i) != find(0) {
			return nil, false, nil
		}
	}
	// Route by the first table whose WHERE terms pick shards.
	vr, src := vindexRoute{opcode: engine.Scatter}, sharded[0]
	for _, s := range sharded {
		r := routeByWhere(sel.Where, s, false)
		if r.opcode == engine.None || r.opcode == engine.EqualUnique || (r.opcode == engine.IN && vr.opcode != engine.IN) {
			vr, src = r, s
			if r.opcode != engine.IN {
				break
			}
		}
	}
	switch vr.opcode {
	case engine.None:
		sel.Where = &ast.BinaryOperationExpr{Op: opcode.NE, L: newValueExpr(int64(1), "", ""), R: newValueExpr(int64(1), "", "")}
		r, err := b.shardRoute(sel, vr, src)
		return r, true, err
	case engine.EqualUnique:
		r, err := b.shardRoute(sel, vr, src)
		return r, true, err
	}
	if preservesOnlyReference(sel.From.TableRefs, sharded) {
		// Every shard would NULL-extend the reference rows it does not
		// match: the gateway joins instead.
		return nil, false, nil
	}
	r, err := b.multiShardSelect(sel, vr, src)
	return r, true, err
}

// preservesOnlyReference reports whether an outer join of the tree keeps
// every row of a side that has no sharded table (only reference tables,
// the same on every shard) while its other side has one: sent to several
// shards, each would return the preserved rows it finds no match for.
func preservesOnlyReference(rs ast.ResultSetNode, sharded []*source) bool {
	j, ok := rs.(*ast.Join)
	if !ok {
		return false
	}
	left, right := hasShardedTable(j.Left, sharded), j.Right != nil && hasShardedTable(j.Right, sharded)
	switch {
	case j.Tp == ast.LeftJoin && !left && right, j.Tp == ast.RightJoin && left && !right:
		return true
	}
	return preservesOnlyReference(j.Left, sharded) || (j.Right != nil && preservesOnlyReference(j.Right, sharded))
}

// hasShardedTable reports whether rs reads one of the sharded sources.
func hasShardedTable(rs ast.ResultSetNode, sharded []*source) bool {
	switch x := rs.(type) {
	case *ast.Join:
		return hasShardedTable(x.Left, sharded) || (x.Right != nil && hasShardedTable(x.Right, sharded))
	case *ast.TableSource:
		return hasShardedTable(x.Source, sharded)
	case *ast.TableName:
		return slices.ContainsFunc(sharded, func(s *source) bool { return s.ref.node == x })
	}
	return true // anything else: assume it may
}

// joinSide is one table of a gateway join and the query built for it.
type joinSide struct {
	ts     *ast.TableSource
	ref    tableRef
	name   string // what columns qualify it with: alias or table name
	fields []*ast.SelectField
	star   bool
	where  []ast.ExprNode
	hidden []*ast.SelectField
	// attached are reference tables joined into this side's query.
	attached []attached
	// lock is the statement's FOR UPDATE / LOCK IN SHARE MODE: each side's
	// query locks the rows it reads, as Vitess's routes of a join do.
	lock *ast.SelectLockInfo
}

// hide appends a hidden column and returns its index from the end, as
// resolved once all hidden columns are known (fixed by finish).
func (s *joinSide) hide(e ast.ExprNode) int {
	s.hidden = append(s.hidden, &ast.SelectField{Expr: e})
	return len(s.hidden) - 1
}

// at is hidden column h as a negative index from the end of the row.
func (s *joinSide) at(h int) int { return -(len(s.hidden) - h) }

const (
	sideNone = -1
	sideBoth = -2
)

// selectSide is the side of a join that computes a select expression: the
// one whose columns it uses, the outer one for a constant.
func selectSide(e ast.ExprNode, sides [2]*joinSide, outer int) (int, error) {
	s, err := sideOf(e, sides)
	if err != nil {
		return 0, err
	}
	switch s {
	case sideBoth:
		return 0, unsupported("expressions of columns of both tables of a join across shards")
	case sideNone:
		return outer, nil
	}
	return s, nil
}

// sideOf says which table an expression's columns belong to.
func sideOf(e ast.ExprNode, sides [2]*joinSide) (int, error) {
	side := sideNone
	for _, r := range columnsOf(e, "") {
		c := r.col
		if c.Table.O == "" {
			return 0, unsupportedf("unqualified column '%s' in a join across shards (qualify it with its table)", c.Name.O)
		}
		s := -1
		for i, sd := range sides {
			if sd.owns(c.Table.O) {
				s = i
			}
		}
		if s < 0 {
			return 0, errBadField(c.Table.O + "." + c.Name.O)
		}
		switch side {
		case sideNone:
			side = s
		case s:
		default:
			side = sideBoth
		}
	}
	return side, nil
}

// gatewayJoin plans a two-table join as a nested-loop Join.
func (b *builder) gatewayJoin(sel *ast.SelectStmt) (engine.Primitive, error) {
	switch {
	case len(sel.WindowSpecs) > 0 || findNode(sel, isWindowFunc):
		return b.windowSelect(sel, vindexRoute{}, nil) // build_window_join.go
	case sel.SelectIntoOpt != nil:
		return nil, unsupported("SELECT ... INTO across shards")
	}
	j := sel.From.TableRefs
	if inner, ok := j.Left.(*ast.Join); ok && j.Right == nil {
		j = inner
	}
	rj, attach, withRefs, err := b.withReferenceTables(sel)
	if err != nil {
		return nil, err
	}
	if withRefs {
		j = rj
		for _, f := range sel.Fields.Fields {
			// * is each side's tables' columns, side after side: MySQL's
			// order when every side's tables are together in FROM.
			if f.WildCard != nil && (f.WildCard.Table.O != "" || !sidesInFromOrder(sel, rj, attach)) {
				return nil, unsupported("* in a join of more than two tables across shards")
			}
		}
	}
	lts, ok1 := tableSourceOf(j.Left)
	rts, ok2 := tableSourceOf(j.Right)
	if !ok1 || !ok2 {
		return b.chainJoin(sel)
	}
	if j.NaturalJoin || len(j.Using) > 0 {
		return nil, unsupported("NATURAL JOIN and JOIN ... USING across shards")
	}
	var sides [2]*joinSide
	for i, ts := range []*ast.TableSource{lts, rts} {
		tn, ok := ts.Source.(*ast.TableName)
		if !ok {
			return nil, unsupported("derived tables in a join across shards")
		}
		ref, err := b.resolveTable(tn)
		if err != nil {
			return nil, err
		}
		if ref.system {
			return nil, unsupported("a query joining system schema tables with sharded tables")
		}
		name := ts.AsName.O
		if name == "" {
			name = tn.Name.O
		}
		sides[i] = &joinSide{ts: ts, ref: ref, name: name, attached: attach[i], lock: sel.LockInfo}
	}
	if err := keepFieldNames(sel); err != nil {
		return nil, err
	}
	// outer is the side whose rows drive the loop (the preserved side of a
	// LEFT or RIGHT JOIN).
	outer, inner, isOuter := 0, 1, false
	switch j.Tp {
	case ast.LeftJoin:
		isOuter = true
	case ast.RightJoin:
		outer, inner, isOuter = 1, 0, true
	}
	var on []ast.ExprNode
	if j.On != nil {
		on = splitAnd(j.On.Expr, nil)
	}
	// What a two-table Join cannot do alone (conditions and expressions
	// over both tables' rows, WHERE terms over NULL-extended rows) the
	// chain planner does with a Filter and a Projection over the joined
	// rows; it needs every column by name (no * of unknown columns).
	star := false
	for _, f := range sel.Fields.Fields {
		star = star || f.WildCard != nil
	}
	overRows := func(refusal error) (engine.Primitive, error) {
		if star {
			return nil, refusal
		}
		return b.chainJoin(sel)
	}
	var joinL, joinR ast.ExprNode
	place := func(term ast.ExprNode, fromOn bool) error {
		s, err := sideOf(term, sides)
		if err != nil {
			return err
		}
		switch {
		case s == sideBoth:
			be, ok := unparen(term).(*ast.BinaryOperationExpr)
			if ok && be.Op == opcode.EQ && joinL == nil && (fromOn || !isOuter) {
				ls, _ := sideOf(be.L, sides)
				rs, _ := sideOf(be.R, sides)
				lc, ok1 := unparen(be.L).(*ast.ColumnNameExpr)
				rc, ok2 := unparen(be.R).(*ast.ColumnNameExpr)
				if ok1 && ok2 && ls != rs {
					if ls == outer {
						joinL, joinR = lc, rc
					} else {
						joinL, joinR = rc, lc
					}
					return nil
				}
			}
			return unsupported("join conditions other than one equality of columns across shards")
		case isOuter && fromOn && (s == outer || s == sideNone):
			return unsupported("ON conditions on the outer table of a LEFT JOIN across shards")
		case isOuter && !fromOn && s == inner:
			return unsupported("WHERE conditions on the inner table of a LEFT JOIN across shards")
		case s == sideNone:
			sides[outer].where = append(sides[outer].where, term)
		default:
			sides[s].where = append(sides[s].where, term)
		}
		return nil
	}
	for _, t := range on {
		if err := place(t, true); err != nil {
			return overRows(err)
		}
	}
	for _, t := range splitAnd(sel.Where, nil) {
		if err := place(t, false); err != nil {
			return overRows(err)
		}
	}
	if joinL == nil {
		return overRows(unsupported("a join across shards without an equality of columns of the two tables"))
	}
	if sel.GroupBy != nil || sel.Having != nil || findNode(sel.Fields, isAggregate) || sel.Distinct ||
		(sel.OrderBy != nil && findNode(sel.OrderBy, isAggregate)) {
		if isOuter && readsInnerExpression(sel, sides, inner) {
			// Its value on NULL-extended rows is not NULL in general
			// (SUM(IFNULL(o.x, 0))): computed over the joined rows.
			return overRows(unsupported("expressions of the inner table of a LEFT JOIN across shards"))
		}
		return b.groupedJoin(sel, sides, outer, inner, isOuter, joinL, joinR)
	}
	// Select list: explicit columns first on each side, then its *.
	type pendingCol struct {
		side int
		idx  int
		star bool
	}
	var cols []pendingCol
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			if f.WildCard.Table.O == "" {
				for s := 0; s < 2; s++ {
					sides[s].star = true
					cols = append(cols, pendingCol{side: s, star: true})
				}
				continue
			}
			s := -1
			for i, sd := range sides {
				if strings.EqualFold(sd.name, f.WildCard.Table.O) {
					s = i
				}
			}
			if s < 0 {
				return nil, sqlerror.New(sqlerror.User, mysql.ER_BAD_TABLE_ERROR, "Unknown table '%s'", f.WildCard.Table.O)
			}
			sides[s].star = true
			cols = append(cols, pendingCol{side: s, star: true})
			continue
		}
		s, err := selectSide(f.Expr, sides, outer)
		if err != nil {
			return overRows(err)
		}
		if _, isCol := unparen(f.Expr).(*ast.ColumnNameExpr); isOuter && s == inner && !isCol {
			// Its value on a NULL-extended row is not NULL in general
			// (IFNULL(o.x, 0)): computed over the joined rows.
			return overRows(unsupported("expressions of the inner table of a LEFT JOIN across shards"))
		}
		sides[s].fields = append(sides[s].fields, f)
		cols = append(cols, pendingCol{side: s, idx: len(sides[s].fields) - 1})
	}
	// Join columns and ORDER BY operands are hidden columns.
	lkey := engine.GroupKey{Col: sides[outer].hide(joinL), Weight: sides[outer].hide(weightOf(joinL))}
	rkey := engine.GroupKey{Col: sides[inner].hide(joinR), Weight: sides[inner].hide(weightOf(joinR))}
	type orderCol struct {
		side, val, weight int
		desc              bool
		// star: ordered by result column val (a position inside or after
		// a * whose columns the gateway does not know), which has no
		// weight_string: numbers and temporal values sort, strings are
		// refused when sorted.
		star bool
	}
	var orders []orderCol
	if sel.OrderBy != nil {
		for _, item := range sel.OrderBy.Items {
			e := item.Expr
			if v, ok := e.(*valueExpr); ok && v.val == nil {
				continue
			}
			if p, ok := e.(*ast.PositionExpr); ok {
				if p.P != nil || p.N < 1 {
					return nil, unsupported("ORDER BY this position over a join across shards")
				}
				if starAtOrBefore(sel.Fields.Fields, p.N) {
					orders = append(orders, orderCol{val: p.N - 1, desc: item.Desc, star: true})
					continue
				}
				if p.N > len(sel.Fields.Fields) {
					return nil, unsupported("ORDER BY this position over a join across shards")
				}
				e = sel.Fields.Fields[p.N-1].Expr
			} else if c, ok := e.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
				for _, f := range sel.Fields.Fields {
					if f.WildCard == nil && strings.EqualFold(f.AsName.O, c.Name.Name.O) {
						e = f.Expr
					}
				}
			}
			s, err := sideOf(e, sides)
			if err != nil {
				return nil, err
			}
			if s == sideBoth {
				return overRows(unsupported("ORDER BY an expression of both tables of a join across shards"))
			}
			if s == sideNone {
				return nil, unsupported("ORDER BY a constant across shards")
			}
			orders = append(orders, orderCol{side: s, val: sides[s].hide(e), weight: sides[s].hide(weightOf(e)), desc: item.Desc})
		}
	}
	routes, rightVindex, err := b.sideRoutes(sides, outer, inner, joinR)
	if err != nil {
		return nil, err
	}
	jn := &engine.Join{
		Left: routes[outer], Right: routes[inner], Outer: isOuter,
		LeftHidden: len(sides[outer].hidden), RightHidden: len(sides[inner].hidden),
		RightVindex: rightVindex,
	}
	lkey = engine.GroupKey{Col: sides[outer].at(lkey.Col), Weight: sides[outer].at(lkey.Weight)}
	rkey = engine.GroupKey{Col: sides[inner].at(rkey.Col), Weight: sides[inner].at(rkey.Weight)}
	jn.LeftKey, jn.RightKey = lkey, rkey
	for _, c := range cols {
		jc := engine.JoinColumn{Right: c.side == inner, Star: c.star, Col: c.idx}
		if c.star {
			jc.Col = len(sides[c.side].fields)
		}
		jn.Cols = append(jn.Cols, jc)
	}
	var top engine.Primitive = jn
	if len(orders) > 0 {
		var keys []engine.OrderKey
		n := 0
		for _, o := range orders {
			if !o.star {
				n += 2
			}
		}
		at := -n
		for _, o := range orders {
			if o.star {
				keys = append(keys, engine.OrderKey{Col: o.val, Weight: engine.NoWeight, Desc: o.desc})
				continue
			}
			sd := sides[o.side]
			jn.Cols = append(jn.Cols,
				engine.JoinColumn{Right: o.side == inner, Col: sd.at(o.val)},
				engine.JoinColumn{Right: o.side == inner, Col: sd.at(o.weight)})
			keys = append(keys, engine.OrderKey{Col: at, Weight: at + 1, Desc: o.desc})
			at += 2
		}
		top = &engine.MemorySort{Input: jn, Keys: keys, Trim: n, CheckPositions: slices.ContainsFunc(orders, func(o orderCol) bool { return o.star })}
	}
	if sel.Limit != nil {
		l, err := limitOf(sel.Limit)
		if err != nil {
			return nil, err
		}
		top = &engine.Limit{Input: top, Spec: *l}
	}
	return top, nil
}

// sidesInFromOrder says whether FROM lists the first side's table, its
// reference tables, the second side's table and its reference tables,
// in that order (withReferenceTables' sides j.Left and j.Right).
func sidesInFromOrder(sel *ast.SelectStmt, j *ast.Join, attach [2][]attached) bool {
	var tables []*ast.TableSource
	var on []ast.ExprNode
	if !flattenInnerJoin(sel.From.TableRefs, &tables, &on) {
		return false
	}
	var want []*ast.TableSource
	for i, side := range []ast.ResultSetNode{j.Left, j.Right} {
		ts, ok := side.(*ast.TableSource)
		if !ok {
			return false
		}
		want = append(want, ts)
		for _, a := range attach[i] {
			want = append(want, a.ts)
		}
	}
	return slices.Equal(tables, want)
}

// readsInnerExpression says whether a grouped query over a LEFT JOIN reads
// an expression of the inner table other than a column (an aggregate's
// argument, a grouping or selected expression), whose value on a
// NULL-extended row its shard cannot compute.
func readsInnerExpression(sel *ast.SelectStmt, sides [2]*joinSide, inner int) bool {
	v := &innerExprFinder{sides: sides, inner: inner}
	for _, n := range []ast.Node{sel.Fields, sel.GroupBy, sel.Having, sel.OrderBy} {
		if n != nil && !reflect.ValueOf(n).IsNil() {
			n.Accept(v)
		}
	}
	return v.found
}

type innerExprFinder struct {
	sides [2]*joinSide
	inner int
	found bool
}

func (v *innerExprFinder) Enter(n ast.Node) (ast.Node, bool) {
	e, ok := n.(ast.ExprNode)
	if !ok || v.found {
		return n, v.found
	}
	switch e.(type) {
	case *ast.ColumnNameExpr, *ast.AggregateFuncExpr, *ast.ParenthesesExpr:
		return n, false
	}
	if s, err := sideOf(e, v.sides); err == nil && s == v.inner {
		v.found = true
		return n, true
	}
	return n, false
}

func (v *innerExprFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// starAtOrBefore says whether a * is among the first n select fields:
// then the n-th result column is known only when the rows come.
func starAtOrBefore(fields []*ast.SelectField, n int) bool {
	for i, f := range fields {
		if i >= n {
			break
		}
		if f.WildCard != nil {
			return true
		}
	}
	return false
}

// sideRouting routes one side's query by its table and WHERE terms.
func (b *builder) sideRouting(sd *joinSide, q *ast.SelectStmt, outer bool) (engine.Routing, error) {
	ks := sd.ref.ks
	if !ks.Sharded {
		return engine.Routing{Opcode: engine.Unsharded, Keyspace: ks.Name, Table: sd.ref.node.Name.O}, nil
	}
	src := &source{ref: sd.ref, alias: sd.ts.AsName.O}
	if sd.ref.table.Type == "reference" {
		return engine.Routing{Opcode: engine.Reference, Keyspace: ks.Name, Sharded: true, Table: sd.ref.node.Name.O}, nil
	}
	vr := b.routeWhere(q.Where, src, true)
	if outer {
		vr.cutInList()
	} else if vr.opcode == engine.IN {
		vr = vindexRoute{opcode: engine.Scatter} // the join values decide; the list stays in the query
	}
	return vr.routing(src), nil
}

// tableSourceOf unwraps the one-sided Join the parser puts around the
// first table of `FROM a, b`.
func tableSourceOf(n ast.ResultSetNode) (*ast.TableSource, bool) {
	for {
		switch x := n.(type) {
		case *ast.TableSource:
			return x, true
		case *ast.Join:
			if x.Right != nil {
				return nil, false
			}
			n = x.Left
		default:
			return nil, false
		}
	}
}

// sideRoutes builds the two side queries of a gateway join: each side's
// columns, its * and hidden columns, its WHERE terms and, on the inner
// side, the IN list of join values. rightVindex says whether the join
// column is the inner table's primary vindex column.
func (b *builder) sideRoutes(sides [2]*joinSide, outer, inner int, joinR ast.ExprNode) ([2]*engine.Route, bool, error) {
	routes := [2]*engine.Route{}
	rightVindex := false
	for s := 0; s < 2; s++ {
		sd := sides[s]
		var fl []*ast.SelectField
		fl = append(fl, sd.fields...)
		if sd.star {
			fl = append(fl, &ast.SelectField{WildCard: &ast.WildCardField{Table: ast.NewCIStr(sd.name)}})
			for _, a := range sd.attached {
				fl = append(fl, &ast.SelectField{WildCard: &ast.WildCardField{Table: ast.NewCIStr(a.name)}})
			}
		}
		fl = append(fl, sd.hidden...)
		where := sd.where
		if s == inner {
			where = append(where, &ast.PatternInExpr{Expr: joinR, List: []ast.ExprNode{newHoleExpr(engine.HoleValsText)}})
		}
		q := &ast.SelectStmt{
			Kind:           ast.SelectStmtKindSelect,
			SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
			Fields:         &ast.FieldList{Fields: fl},
			From:           &ast.TableRefsClause{TableRefs: sd.from().(*ast.Join)},
			Where:          andAll(where),
			LockInfo:       sd.lock,
		}
		rt, err := b.sideRouting(sd, q, s == outer)
		if err != nil {
			return routes, false, err
		}
		if s == inner && sd.ref.ks.Sharded && sd.ref.table.Type != "reference" {
			col, vx, ok := primaryVindex(sd.ref.table)
			c := joinR.(*ast.ColumnNameExpr)
			rightVindex = ok && strings.EqualFold(col, c.Name.Name.O) && strings.EqualFold(c.Name.Table.O, sd.name)
			if rightVindex {
				rt.Vindex = vx
			}
		}
		tmpl, err := render(q)
		if err != nil {
			return routes, false, err
		}
		routes[s] = &engine.Route{Routing: rt, Query: tmpl}
	}
	return routes, rightVindex, nil
}

// groupedJoin plans GROUP BY, DISTINCT, HAVING and aggregates over a
// gateway join: the join delivers one row per joined pair with per-row
// partials (1 for COUNT(*), x IS NOT NULL for COUNT(x), x for MIN, MAX,
// SUM and AVG), which GroupAggregate merges like shard partials. The
// result types of SUM and AVG (MySQL's DECIMAL precision and scale) come
// from a field query on one shard of the table they read.
func (b *builder) groupedJoin(sel *ast.SelectStmt, sides [2]*joinSide, outer, inner int, isOuter bool, joinL, joinR ast.ExprNode) (engine.Primitive, error) {
	g, ga, lim, err := planGrouping(sel)
	if err != nil {
		return nil, err
	}
	var cols []engine.JoinColumn
	for col, f := range g.fields {
		var phys ast.ExprNode = newValueExpr(nil, "", "")
		if !g.computedAt[col] {
			// A computed column's value is the gateway's; its type comes
			// from a field query below.
			if phys, err = partialOf(f.Expr); err != nil {
				return nil, err
			}
		}
		s, err := selectSide(phys, sides, outer)
		if err != nil {
			return nil, err
		}
		sides[s].fields = append(sides[s].fields, &ast.SelectField{Expr: phys, AsName: f.AsName})
		cols = append(cols, engine.JoinColumn{Right: s == inner, Col: len(sides[s].fields) - 1})
	}
	lkey := engine.GroupKey{Col: sides[outer].hide(joinL), Weight: sides[outer].hide(weightOf(joinL))}
	rkey := engine.GroupKey{Col: sides[inner].hide(joinR), Weight: sides[inner].hide(weightOf(joinR))}
	routes, rightVindex, err := b.sideRoutes(sides, outer, inner, joinR)
	if err != nil {
		return nil, err
	}
	jn := &engine.Join{
		Left: routes[outer], Right: routes[inner], Outer: isOuter,
		LeftHidden: len(sides[outer].hidden), RightHidden: len(sides[inner].hidden),
		RightVindex: rightVindex, Cols: cols,
		LeftKey:  engine.GroupKey{Col: sides[outer].at(lkey.Col), Weight: sides[outer].at(lkey.Weight)},
		RightKey: engine.GroupKey{Col: sides[inner].at(rkey.Col), Weight: sides[inner].at(rkey.Weight)},
	}
	ga.Input, ga.RetypeCounts = jn, true
	// Field queries for the types of the visible SUM and AVG columns.
	var probeFields [2][]*ast.SelectField
	var probeCols [2][]int
	for col := 0; col < len(g.fields); col++ {
		if !g.needsTypeProbe(col) {
			continue
		}
		f := g.fields[col]
		s, err := sideOf(f.Expr, sides)
		if err != nil {
			return nil, err
		}
		if s == sideBoth {
			probe, err := joinTypeProbe(sel, sides, []*ast.SelectField{{Expr: f.Expr, AsName: f.AsName}}, []int{col})
			if err != nil {
				return nil, err
			}
			ga.TypeProbes = append(ga.TypeProbes, probe)
			continue
		}
		if s < 0 {
			s = outer
		}
		probeFields[s] = append(probeFields[s], &ast.SelectField{Expr: f.Expr, AsName: f.AsName})
		probeCols[s] = append(probeCols[s], col)
	}
	for s := 0; s < 2; s++ {
		if len(probeFields[s]) == 0 {
			continue
		}
		probe, err := typeProbe(sides[s], probeFields[s], probeCols[s])
		if err != nil {
			return nil, err
		}
		ga.TypeProbes = append(ga.TypeProbes, probe)
	}
	var top engine.Primitive = ga
	if lim != nil {
		top = &engine.Limit{Input: top, Spec: *lim}
	}
	return top, nil
}

// needsTypeProbe tells whether column col of a grouped join's result
// needs its type learnt from a shard (typeProbe): a computed column, or a
// visible SUM or AVG, whose type the joined rows don't carry.
func (g *groupPlan) needsTypeProbe(col int) bool {
	if g.computedAt[col] {
		return true
	}
	i, ok := g.aggAt[col]
	if !ok {
		return false
	}
	if col >= g.visible {
		// A hidden AVG read as text (CONCAT('avg ', AVG(x))) rounds to
		// its type's scale too.
		op := g.aggs[i].Op
		return op == engine.AggrAvg || op == engine.AggrAvgDistinct
	}
	switch g.aggs[i].Op {
	case engine.AggrSum, engine.AggrAvg, engine.AggrSumDistinct, engine.AggrAvgDistinct, engine.AggrGroupConcat:
		return true
	}
	return false
}

// typeProbe is the query that learns the types of the columns cols of a
// grouped join's result, computed at the gateway from fields over one
// side's tables: fields over the side with WHERE 1 != 1 on any one of
// its shards, which answers column definitions and no row.
func typeProbe(sd *joinSide, fields []*ast.SelectField, cols []int) (engine.TypeProbe, error) {
	q := &ast.SelectStmt{
		Kind:           ast.SelectStmtKindSelect,
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Fields:         &ast.FieldList{Fields: fields},
		From:           &ast.TableRefsClause{TableRefs: sd.from().(*ast.Join)},
		Where:          &ast.BinaryOperationExpr{Op: opcode.NE, L: newValueExpr(int64(1), "", ""), R: newValueExpr(int64(1), "", "")},
	}
	tmpl, err := render(q)
	if err != nil {
		return engine.TypeProbe{}, err
	}
	rt := engine.Routing{Opcode: engine.Unsharded, Keyspace: sd.ref.ks.Name, Table: sd.ref.node.Name.O}
	if sd.ref.ks.Sharded {
		rt.Opcode, rt.Sharded = engine.Reference, true // any one shard
	}
	return engine.TypeProbe{Route: &engine.Route{Routing: rt, Query: tmpl}, Cols: cols}, nil
}

// partialOf is the per-row value a joined row contributes to an
// aggregate (see groupedJoin); other expressions are themselves.
func partialOf(e ast.ExprNode) (ast.ExprNode, error) {
	switch x := unparen(e).(type) {
	case *ast.AggregateFuncExpr:
		name := strings.ToLower(x.F)
		if name == ast.AggFuncGroupConcat {
			// Joined at the gateway from its hidden element columns; its
			// type comes from a field query.
			return newValueExpr(nil, "", ""), nil
		}
		if len(x.Args) != 1 {
			return nil, unsupportedf("%s of several expressions over a join across shards", strings.ToUpper(x.F))
		}
		switch name {
		case ast.AggFuncCount:
			if v, ok := x.Args[0].(*valueExpr); ok && v.val != nil && !x.Distinct {
				return newValueExpr(int64(1), "", ""), nil
			}
			return &ast.IsNullExpr{Expr: x.Args[0], Not: true}, nil
		case ast.AggFuncMin, ast.AggFuncMax, ast.AggFuncSum, ast.AggFuncAvg:
			return x.Args[0], nil
		}
		return nil, unsupportedf("%s over a join across shards", strings.ToUpper(x.F))
	case *ast.FuncCallExpr:
		if strings.EqualFold(x.FnName.O, "weight_string") && len(x.Args) == 1 {
			if _, ok := x.Args[0].(*ast.AggregateFuncExpr); ok {
				in, err := partialOf(x.Args[0])
				if err != nil {
					return nil, err
				}
				return weightOf(in), nil
			}
		}
	}
	if findNode(e, isAggregate) {
		return nil, unsupported("expressions of aggregate functions over a join across shards")
	}
	return e, nil
}
