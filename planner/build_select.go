package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/engine"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/sqlerror"
)

func (b *builder) buildSelect(stmt ast.StmtNode) (engine.Primitive, error) {
	p, placeErr := b.place(stmt)
	if placeErr != nil && !p.cross {
		return nil, placeErr
	}
	if placeErr == nil {
		if r, ok, err := b.simpleRoute(p); ok || err != nil {
			if err == nil && (stmt != b.top || b.rewritten) {
				// A part of the statement (a union branch, a subquery) or a
				// rewritten one: send what it is now, not the original text.
				if sel, ok := stmt.(*ast.SelectStmt); ok {
					if err := keepFieldNames(sel); err != nil {
						return nil, err
					}
				}
				if r.Query, err = render(stmt); err != nil {
					return nil, err
				}
			}
			return r, err
		}
	}
	sel, ok := stmt.(*ast.SelectStmt)
	if !ok {
		if placeErr == nil {
			if pinned, err := b.pinnedShard(stmt, p); err != nil || pinned != nil {
				return pinned, err
			}
		}
		u, ok := stmt.(*ast.SetOprStmt)
		if !ok {
			return nil, unsupported("this statement across shards")
		}
		return b.buildUnion(u)
	}
	if placeErr == nil && (sel.With != nil || hasSubquery(sel) || findNode(sel, isWindowFunc)) {
		if pinned, err := b.pinnedShard(stmt, p); err != nil || pinned != nil {
			return pinned, err
		}
		if !extractable(sel) {
			if r, ok, err := b.colocatedSelect(sel, p); ok || err != nil {
				return r, err
			}
		}
	}
	if sel.With != nil {
		return nil, unsupported("WITH (common table expressions) on sharded tables")
	}
	if sel.Kind != ast.SelectStmtKindSelect {
		return nil, unsupported("TABLE and VALUES statements on sharded tables")
	}
	if hasSubquery(sel) {
		if placeErr == nil {
			if pinned, err := b.pinnedShard(stmt, p); err != nil || pinned != nil {
				return pinned, err
			}
		}
		if sj, ok, err := b.semiJoin(sel); ok || err != nil {
			return sj, err
		}
		subs, found, err := b.extractSubqueries(sel)
		if err != nil {
			return nil, err
		}
		b.rewritten = true
		if len(subs) == 0 {
			return nil, unsupported("subqueries on sharded tables")
		}
		outer, ok, err := b.routeBySubquery(sel, subs, found, func() (engine.Primitive, error) { return b.buildSelect(sel) })
		if err != nil {
			return nil, err
		}
		if !ok {
			if outer, err = b.buildSelect(sel); err != nil {
				return nil, err
			}
		}
		return &engine.UncorrelatedSubquery{Subs: subs, Outer: outer, NParams: b.nparams}, nil
	}
	if placeErr != nil {
		if isJoin(sel) {
			if err := b.resolveJoinColumns(sel); err != nil {
				return nil, err
			}
			return b.gatewayJoin(sel)
		}
		return nil, placeErr
	}
	srcs, single := fromSources(sel, p)
	if !single {
		if pinned, err := b.pinnedShard(stmt, p); err != nil || pinned != nil {
			return pinned, err
		}
		if r, ok, err := b.colocatedJoin(sel, p); ok || err != nil {
			return r, err
		}
		if isJoin(sel) {
			if err := b.resolveJoinColumns(sel); err != nil {
				return nil, err
			}
			return b.gatewayJoin(sel)
		}
		return nil, unsupported("joins across shards")
	}
	src := &srcs[0]
	vr := b.routeWhere(sel.Where, src, true)
	if src.ref.table.Type == "reference" {
		vr = vindexRoute{opcode: engine.Reference}
	}
	if vr.opcode == engine.None {
		// Nothing matches: one shard answers with the fields (and the
		// zero row of a scalar aggregate) from a query that reads nothing.
		sel.Where = &ast.BinaryOperationExpr{Op: opcode.NE, L: newValueExpr(int64(1), "", ""), R: newValueExpr(int64(1), "", "")}
		return b.shardRoute(sel, vr, src)
	}
	if vr.opcode == engine.EqualUnique || vr.opcode == engine.Reference {
		// One shard: the whole query runs there as written.
		return b.shardRoute(sel, vr, src)
	}
	return b.multiShardSelect(sel, vr, src)
}

// isJoin reports whether a SELECT reads a join of tables.
func isJoin(sel *ast.SelectStmt) bool {
	return sel.From != nil && sel.From.TableRefs != nil &&
		(sel.From.TableRefs.Right != nil || func() bool { _, ok := sel.From.TableRefs.Left.(*ast.Join); return ok }())
}

// fromSources lists the FROM clause's tables; single is true for exactly
// one plain table.
func fromSources(sel *ast.SelectStmt, p placement) ([]source, bool) {
	if sel.From == nil || sel.From.TableRefs == nil {
		return nil, false
	}
	j := sel.From.TableRefs
	if j.Right != nil {
		return nil, false
	}
	ts, ok := j.Left.(*ast.TableSource)
	if !ok {
		return nil, false
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return nil, false
	}
	for _, r := range p.refs {
		if r.node == tn {
			return []source{{ref: r, alias: ts.AsName.O}}, true
		}
	}
	return nil, false
}

// shardRoute renders a statement routed to one shard (or IN/scatter for
// DML) unchanged apart from the IN list.
func (b *builder) shardRoute(stmt ast.StmtNode, vr vindexRoute, src *source) (*engine.Route, error) {
	if sel, ok := stmt.(*ast.SelectStmt); ok {
		if err := keepFieldNames(sel); err != nil {
			return nil, err
		}
	}
	vr.cutInList()
	q, err := render(stmt)
	if err != nil {
		return nil, err
	}
	rt := vr.routing(src)
	if vr.opcode == engine.Reference {
		rt.Opcode, rt.Values = engine.Reference, nil
	}
	return &engine.Route{Routing: rt, Query: q}, nil
}

// multiShardSelect plans a single-table SELECT that runs on several shards:
// concatenation, merge sort and limit, or scalar aggregation.
func (b *builder) multiShardSelect(sel *ast.SelectStmt, vr vindexRoute, src *source) (engine.Primitive, error) {
	switch {
	case !b.localWindows && (len(sel.WindowSpecs) > 0 || findNode(sel, isWindowFunc)):
		return nil, unsupported("window functions across shards")
	case sel.SelectStmtOpts != nil && sel.SelectStmtOpts.CalcFoundRows:
		return nil, unsupported("SQL_CALC_FOUND_ROWS across shards")
	case sel.SelectIntoOpt != nil:
		return nil, unsupported("SELECT ... INTO across shards")
	}
	if sel.SelectStmtOpts != nil && sel.SelectStmtOpts.Distinct {
		sel.Distinct = true
	}
	aggr := findOwn(sel.Fields, isAggregate) || (sel.OrderBy != nil && findOwn(sel.OrderBy, isAggregate))
	if sel.Distinct || sel.GroupBy != nil || sel.Having != nil || (aggr && !plainScalar(sel)) {
		return b.groupedSelect(sel, vr, src)
	}
	if err := keepFieldNames(sel); err != nil {
		return nil, err
	}
	if aggr {
		return b.aggregateSelect(sel, vr, src)
	}
	var lim *engine.LimitSpec
	if sel.Limit != nil {
		l, err := limitOf(sel.Limit)
		if err != nil {
			return nil, err
		}
		lim = l
	}
	var keys []engine.OrderKey
	trim := 0
	if sel.OrderBy != nil {
		var err error
		keys, trim, err = orderKeys(sel)
		if err != nil {
			return nil, err
		}
	}
	route := &engine.Route{Routing: vr.routing(src)}
	if lim != nil {
		if lim.Count.Param < 0 && (lim.Offset == nil || lim.Offset.Param < 0) {
			n, err := lim.Upper(nil)
			if err != nil {
				return nil, err
			}
			sel.Limit = &ast.Limit{Count: newValueExpr(n, "", "")}
		} else {
			sel.Limit = &ast.Limit{Count: newHoleExpr(engine.HoleLimitText)}
			route.PushedLimit = lim
		}
	}
	vr.cutInList()
	q, err := render(sel)
	if err != nil {
		return nil, err
	}
	route.Query = q
	var top engine.Primitive = route
	if len(keys) > 0 {
		top = &engine.MergeSort{Input: route, Keys: keys, Trim: trim}
	}
	if lim != nil {
		top = &engine.Limit{Input: top, Spec: *lim}
	}
	return top, nil
}

// plainScalar reports whether an aggregate query is only COUNT, SUM, MIN
// and MAX columns without DISTINCT, ORDER BY or GROUP_CONCAT: the shape
// the one-row Aggregate merges.
func plainScalar(sel *ast.SelectStmt) bool {
	if sel.OrderBy != nil {
		return false
	}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			return false
		}
		a, ok := unparen(f.Expr).(*ast.AggregateFuncExpr)
		if !ok || a.Distinct {
			return false
		}
		switch strings.ToLower(a.F) {
		case ast.AggFuncCount, ast.AggFuncSum, ast.AggFuncMin, ast.AggFuncMax:
		default:
			return false
		}
	}
	return true
}

func isWindowFunc(n ast.Node) bool {
	_, ok := n.(*ast.WindowFuncExpr)
	return ok
}

func isAggregate(n ast.Node) bool {
	_, ok := n.(*ast.AggregateFuncExpr)
	return ok
}

// limitOf reads a LIMIT clause of literals or ? markers.
func limitOf(l *ast.Limit) (*engine.LimitSpec, error) {
	c, ok := valueOf(l.Count)
	if !ok {
		return nil, unsupported("LIMIT with an expression")
	}
	spec := &engine.LimitSpec{Count: c}
	if l.Offset != nil {
		o, ok := valueOf(l.Offset)
		if !ok {
			return nil, unsupported("LIMIT with an expression")
		}
		spec.Offset = &o
	}
	if c.Param < 0 {
		if _, err := engine.LimitValue(c, nil); err != nil {
			return nil, err
		}
	}
	if spec.Offset != nil && spec.Offset.Param < 0 {
		if _, err := engine.LimitValue(*spec.Offset, nil); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// orderKeys maps ORDER BY terms to result columns for the merge, appending
// hidden columns to the select list: the term itself when it is not a
// selected column, and always its weight_string (used for character
// columns; the backend's field type decides at run time).
func orderKeys(sel *ast.SelectStmt) ([]engine.OrderKey, int, error) {
	fields := sel.Fields.Fields
	visible := len(fields)
	starAt := -1
	for i, f := range fields {
		if f.WildCard != nil {
			starAt = i
			break
		}
	}
	var hidden []*ast.SelectField
	type pending struct {
		col    int // >= 0: visible column; < 0: -(1+index into hidden)
		weight int // index into hidden
		desc   bool
	}
	var ps []pending
	for _, item := range sel.OrderBy.Items {
		expr := item.Expr
		col := -1
		var valueExprForWeight ast.ExprNode
		switch x := expr.(type) {
		case *ast.PositionExpr:
			if x.P != nil {
				return nil, 0, unsupported("ORDER BY a parameter across shards")
			}
			if x.N < 1 || x.N > visible {
				return nil, 0, sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%d' in 'order clause'", x.N)
			}
			if starAt >= 0 && starAt < x.N {
				return nil, 0, unsupported("ORDER BY a position after * across shards")
			}
			col = x.N - 1
			valueExprForWeight = fields[col].Expr
		default:
			if v, ok := expr.(*valueExpr); ok && v.val == nil {
				continue // ORDER BY NULL: no order
			}
			if _, ok := expr.(ast.ValueExpr); ok {
				return nil, 0, unsupported("ORDER BY a constant across shards")
			}
			col = matchField(fields, expr, starAt)
			if col >= 0 {
				valueExprForWeight = fields[col].Expr
			} else {
				valueExprForWeight = expr
				hidden = append(hidden, &ast.SelectField{Expr: expr})
				col = -len(hidden)
			}
		}
		hidden = append(hidden, &ast.SelectField{Expr: &ast.FuncCallExpr{
			FnName: ast.NewCIStr("weight_string"),
			Args:   []ast.ExprNode{valueExprForWeight},
		}})
		ps = append(ps, pending{col: col, weight: len(hidden) - 1, desc: item.Desc})
	}
	n := len(hidden)
	// Hidden column h is at visible+h without a star, at -(n-h) with one.
	at := func(h int) int {
		if starAt >= 0 {
			return -(n - h)
		}
		return visible + h
	}
	keys := make([]engine.OrderKey, len(ps))
	for i, p := range ps {
		col := p.col
		if col < 0 {
			col = at(-col - 1)
		}
		keys[i] = engine.OrderKey{Col: col, Weight: at(p.weight), Desc: p.desc}
	}
	sel.Fields.Fields = append(fields, hidden...)
	return keys, n, nil
}

// matchField finds the visible column an ORDER BY expression names: an
// alias, or the same column. -1 if none (or if a * before it hides its
// position).
func matchField(fields []*ast.SelectField, expr ast.ExprNode, starAt int) int {
	c, ok := expr.(*ast.ColumnNameExpr)
	if !ok {
		return -1
	}
	for i, f := range fields {
		if starAt >= 0 && i >= starAt {
			return -1
		}
		if c.Name.Table.O == "" && f.AsName.O != "" && strings.EqualFold(f.AsName.O, c.Name.Name.O) {
			return i
		}
		fc, ok := f.Expr.(*ast.ColumnNameExpr)
		if !ok || !strings.EqualFold(fc.Name.Name.O, c.Name.Name.O) {
			continue
		}
		if f.AsName.O != "" && !strings.EqualFold(f.AsName.O, c.Name.Name.O) && c.Name.Table.O == "" {
			// `select a as b ... order by a` orders by column a.
			return i
		}
		if c.Name.Table.O == "" || fc.Name.Table.O == "" || c.Name.Table.O == fc.Name.Table.O {
			return i
		}
	}
	return -1
}

// aggregateSelect plans `select count(*), sum(x), min(y), max(z) from t
// where ...` on several shards.
func (b *builder) aggregateSelect(sel *ast.SelectStmt, vr vindexRoute, src *source) (engine.Primitive, error) {
	// plainScalar checked the shape: only COUNT, SUM, MIN and MAX columns.
	var cols []engine.AggregateColumn
	var hidden []*ast.SelectField
	for _, f := range sel.Fields.Fields {
		a := unparen(f.Expr).(*ast.AggregateFuncExpr)
		col := engine.AggregateColumn{Weight: engine.NoWeight}
		switch strings.ToLower(a.F) {
		case ast.AggFuncCount:
			col.Op = engine.AggrCount
		case ast.AggFuncSum:
			col.Op = engine.AggrSum
		default:
			col.Op = engine.AggrMin
			if strings.EqualFold(a.F, ast.AggFuncMax) {
				col.Op = engine.AggrMax
			}
			hidden = append(hidden, &ast.SelectField{Expr: &ast.FuncCallExpr{
				FnName: ast.NewCIStr("weight_string"),
				Args:   []ast.ExprNode{a},
			}})
			col.Weight = len(sel.Fields.Fields) + len(hidden) - 1
		}
		cols = append(cols, col)
	}
	var lim *engine.LimitSpec
	if sel.Limit != nil {
		l, err := limitOf(sel.Limit)
		if err != nil {
			return nil, err
		}
		lim, sel.Limit = l, nil
	}
	sel.Fields.Fields = append(sel.Fields.Fields, hidden...)
	vr.cutInList()
	q, err := render(sel)
	if err != nil {
		return nil, err
	}
	var top engine.Primitive = &engine.Aggregate{Input: &engine.Route{Routing: vr.routing(src), Query: q}, Columns: cols, Trim: len(hidden)}
	if lim != nil {
		top = &engine.Limit{Input: top, Spec: *lim}
	}
	return top, nil
}

// keepFieldNames aliases select expressions whose rendered text differs
// from what the client wrote, so the backend names the columns as MySQL
// would have (`count(*)`, not `count(1)`).
func keepFieldNames(sel *ast.SelectStmt) error {
	if sel.Fields == nil {
		return nil
	}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil || f.AsName.O != "" || f.Expr == nil {
			continue
		}
		switch f.Expr.(type) {
		case *ast.ColumnNameExpr, ast.ValueExpr:
			continue
		}
		orig := strings.TrimSpace(f.Text())
		if orig == "" {
			continue
		}
		got, err := restore(f.Expr)
		if err != nil {
			return err
		}
		if got != orig {
			f.AsName = ast.NewCIStr(orig)
		}
	}
	return nil
}

// pinnedShard returns a route for a statement with several tables (joins,
// subqueries, unions) when every sharded table instance is pinned to one
// and the same value of one vindex, so the statement is sure to touch one
// shard; nil when that cannot be shown.
func (b *builder) pinnedShard(stmt ast.StmtNode, p placement) (*engine.Route, error) {
	v := &pinCollector{}
	stmt.Accept(v)
	if v.bad {
		return nil, nil
	}
	var pin *engine.Value
	var rt engine.Routing
	for _, sc := range v.scopes {
		// Tables of this scope and their pins.
		pins := make([]*engine.Value, len(sc.srcs))
		var conj []ast.ExprNode
		conj = splitAnd(sc.where, conj)
		for i := range sc.srcs {
			src := &sc.srcs[i]
			ref, ok := refOf(p, src.node)
			if !ok {
				return nil, nil
			}
			src.src.ref = ref
		}
		only := len(sc.srcs) == 1
		for i := range sc.srcs {
			src := &sc.srcs[i].src
			if src.ref.table.Type == "reference" {
				continue
			}
			vr := routeByWhere(andAll(conj), src, only)
			if vr.opcode == engine.EqualUnique {
				pins[i] = &vr.values[0]
			}
		}
		// Propagate pins through equalities of vindex columns.
		eqs := append(conj, sc.on...)
		for changed := true; changed; {
			changed = false
			for _, e := range eqs {
				be, ok := e.(*ast.BinaryOperationExpr)
				if !ok || be.Op != opcode.EQ {
					continue
				}
				for i := range sc.srcs {
					for j := range sc.srcs {
						if i == j || pins[i] == nil || pins[j] != nil {
							continue
						}
						a, bb := &sc.srcs[i].src, &sc.srcs[j].src
						ca, va, ok1 := primaryVindex(a.ref.table)
						cb, vb, ok2 := primaryVindex(bb.ref.table)
						if !ok1 || !ok2 || va.Name() != vb.Name() {
							continue
						}
						if (isVindexColumn(be.L, a, only, ca) && isVindexColumn(be.R, bb, only, cb)) ||
							(isVindexColumn(be.R, a, only, ca) && isVindexColumn(be.L, bb, only, cb)) {
							pins[j] = pins[i]
							changed = true
						}
					}
				}
			}
		}
		for i := range sc.srcs {
			src := &sc.srcs[i].src
			if src.ref.table.Type == "reference" {
				continue
			}
			if pins[i] == nil {
				return nil, nil
			}
			_, vx, _ := primaryVindex(src.ref.table)
			if pin == nil {
				pin = pins[i]
				rt = engine.Routing{Opcode: engine.EqualUnique, Keyspace: p.ks.Name, Sharded: true, Table: src.ref.node.Name.O, Vindex: vx, Values: []engine.Value{*pin}}
				continue
			}
			if !pin.Same(*pins[i]) || rt.Vindex.Name() != vx.Name() {
				return nil, nil
			}
		}
	}
	if pin == nil {
		return nil, nil // only reference tables: not a case this slice handles
	}
	if sel, ok := stmt.(*ast.SelectStmt); ok {
		if err := keepFieldNames(sel); err != nil {
			return nil, err
		}
	}
	q, err := render(stmt)
	if err != nil {
		return nil, err
	}
	return &engine.Route{Routing: rt, Query: q}, nil
}

func andAll(terms []ast.ExprNode) ast.ExprNode {
	var e ast.ExprNode
	for _, t := range terms {
		if e == nil {
			e = t
		} else {
			e = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: e, R: t}
		}
	}
	return e
}

func refOf(p placement, tn *ast.TableName) (tableRef, bool) {
	for _, r := range p.refs {
		if r.node == tn {
			return r, r.table != nil
		}
	}
	return tableRef{}, false
}

// pinScope is one SELECT/UPDATE/DELETE block: its FROM tables, WHERE, and
// the ON conditions of its joins.
type pinScope struct {
	srcs  []pinSource
	where ast.ExprNode
	on    []ast.ExprNode
}

type pinSource struct {
	node *ast.TableName
	src  source
}

// pinCollector gathers scopes; bad is set for shapes it cannot reason
// about (derived tables, NATURAL/USING joins).
type pinCollector struct {
	scopes []pinScope
	bad    bool
}

func (v *pinCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SelectStmt:
		sc := pinScope{where: x.Where}
		if x.From != nil && x.From.TableRefs != nil {
			v.addJoin(&sc, x.From.TableRefs)
		}
		v.scopes = append(v.scopes, sc)
	}
	return n, false
}

func (v *pinCollector) addJoin(sc *pinScope, rs ast.ResultSetNode) {
	switch x := rs.(type) {
	case *ast.Join:
		if x.NaturalJoin || len(x.Using) > 0 {
			v.bad = true
			return
		}
		v.addJoin(sc, x.Left)
		if x.Right != nil {
			v.addJoin(sc, x.Right)
		}
		if x.On != nil {
			sc.on = splitAnd(x.On.Expr, sc.on)
		}
	case *ast.TableSource:
		if _, ok := x.Source.(*ast.SelectStmt); ok {
			return // a derived table: its SELECT is a scope of its own
		}
		tn, ok := x.Source.(*ast.TableName)
		if !ok {
			v.bad = true
			return
		}
		sc.srcs = append(sc.srcs, pinSource{node: tn, src: source{alias: x.AsName.O}})
	default:
		v.bad = true
	}
}

func (v *pinCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }
