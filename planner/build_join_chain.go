package planner

import (
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// Joins of three or more tables at the gateway, as a left-deep chain of
// nested-loop Joins: the first group's rows drive the loop, and each
// further group is read once per batch of the join values the rows so far
// carry (routed by them when they hit the group's vindex column), the way
// Vitess's planner joins tables it cannot push down together.
//
// A group is what one shard query can read: a table, plus the tables
// co-located with it (same keyspace, joined on their primary vindex
// columns of the same vindex type, or any two tables of one unsharded
// keyspace) and the reference tables joined to it. Only tables joined
// before the first LEFT JOIN are grouped and reordered (inner joins
// commute); from the first LEFT JOIN on, each table is its own step in
// the order written. A RIGHT JOIN of the first two tables is the LEFT
// JOIN the other way round. A step without an equality of columns is a
// cross join (its group read once); the rest of the join condition and
// WHERE terms that read several groups are evaluated at the gateway over
// the joined pairs (the step's On), or, for WHERE terms on a LEFT JOINed
// table that still hold for its NULL-extended rows (`o.id IS NULL`),
// over the joined rows (a Filter); other WHERE terms on a LEFT JOINed
// table make it an inner join, as MySQL's outer join simplification
// does. NATURAL JOIN and USING stay refused in chains.

// chainTable is one table of a flattened chain of joins.
type chainTable struct {
	ts    *ast.TableSource
	ref   tableRef
	name  string
	left  bool           // joined by a LEFT JOIN
	on    []ast.ExprNode // that LEFT JOIN's ON terms
	group int
}

// chainStep is the join key of a group joined to the groups before it:
// column left of an earlier group equal to column right of this group.
type chainStep struct {
	left, right ast.ExprNode
	leftGroup   int
	set         bool
	// more are further equalities of columns of an earlier group and
	// this one: a composite join key.
	more []chainKey
}

// chainKey is one more equality of a step: left of group leftGroup equal
// to right of the step's group.
type chainKey struct {
	left, right ast.ExprNode
	leftGroup   int
}

// flattenChain lists the tables of a left-deep tree of joins in FROM
// order; the ON terms of inner joins go to on. nested is set inside the
// right operand of an inner join, where a LEFT JOIN would not be
// left-deep.
func flattenChain(n ast.ResultSetNode, out *[]*chainTable, on *[]ast.ExprNode, nested bool) error {
	switch x := n.(type) {
	case *ast.TableSource:
		if _, ok := x.Source.(*ast.TableName); !ok {
			return unsupported("derived tables in a join across shards")
		}
		*out = append(*out, &chainTable{ts: x})
		return nil
	case *ast.Join:
		if x.Right == nil {
			return flattenChain(x.Left, out, on, nested)
		}
		if x.NaturalJoin || len(x.Using) > 0 {
			return unsupported("NATURAL JOIN and JOIN ... USING across shards")
		}
		switch x.Tp {
		case ast.RightJoin:
			// a RIGHT JOIN b is b LEFT JOIN a: taken where a is the first
			// table, so the chain stays left-deep.
			lts, ok1 := x.Left.(*ast.TableSource)
			rts, ok2 := x.Right.(*ast.TableSource)
			if !ok1 || !ok2 || nested || len(*out) > 0 {
				return unsupported("RIGHT JOIN of a join in a join of more than two tables across shards (write it as a LEFT JOIN)")
			}
			if err := flattenChain(rts, out, on, nested); err != nil {
				return err
			}
			if err := flattenChain(lts, out, on, nested); err != nil {
				return err
			}
			t := (*out)[len(*out)-1]
			t.left = true
			if x.On != nil {
				t.on = splitAnd(x.On.Expr, nil)
			}
			return nil
		case ast.LeftJoin:
			rts, ok := x.Right.(*ast.TableSource)
			if !ok || nested {
				return unsupported("LEFT JOIN of a parenthesised join across shards")
			}
			if err := flattenChain(x.Left, out, on, nested); err != nil {
				return err
			}
			if err := flattenChain(rts, out, on, nested); err != nil {
				return err
			}
			t := (*out)[len(*out)-1]
			t.left = true
			if x.On != nil {
				t.on = splitAnd(x.On.Expr, nil)
			}
			return nil
		}
		if err := flattenChain(x.Left, out, on, nested); err != nil {
			return err
		}
		if err := flattenChain(x.Right, out, on, true); err != nil {
			return err
		}
		if x.On != nil {
			*on = splitAnd(x.On.Expr, *on)
		}
		return nil
	}
	return unsupported("this FROM clause in a join across shards")
}

// chain is a join of three or more tables being planned.
type chain struct {
	tables []*chainTable
	groups []*joinSide
	// leftGroup marks the groups of LEFT JOINed tables (NULL-extended).
	leftGroup []bool
	order     []int // groups in join order
	pos       []int // group -> its place in order
	steps     []chainStep
	// on are the terms evaluated at the gateway over the pairs of each
	// group's step (by group); post the WHERE terms evaluated over the
	// joined rows.
	on   [][]ast.ExprNode
	post []ast.ExprNode
	// lock is the statement's locking clause, for every group's query.
	lock *ast.SelectLockInfo
}

// tableOf finds the table a column qualifier names; -1 if none.
func (c *chain) tableOf(q string) int {
	for i, t := range c.tables {
		if strings.EqualFold(t.name, q) {
			return i
		}
	}
	return -1
}

// groupsOf lists the groups whose columns e reads, in group order.
func (c *chain) groupsOf(e ast.ExprNode) ([]int, error) {
	seen := make([]bool, len(c.groups))
	for _, r := range columnsOf(e, "") {
		col := r.col
		if col.Table.O == "" {
			return nil, unsupportedf("unqualified column '%s' in a join across shards (qualify it with its table)", col.Name.O)
		}
		t := c.tableOf(col.Table.O)
		if t < 0 {
			return nil, errBadField(col.Table.O + "." + col.Name.O)
		}
		seen[c.tables[t].group] = true
	}
	var out []int
	for g, ok := range seen {
		if ok {
			out = append(out, g)
		}
	}
	return out, nil
}

// columnEquality splits `x.a = y.b` into its two columns and their tables.
func (c *chain) columnEquality(e ast.ExprNode) (l, r *ast.ColumnNameExpr, lt, rt int, ok bool) {
	be, isEq := unparen(e).(*ast.BinaryOperationExpr)
	if !isEq || be.Op != opcode.EQ {
		return nil, nil, 0, 0, false
	}
	l, ok1 := unparen(be.L).(*ast.ColumnNameExpr)
	r, ok2 := unparen(be.R).(*ast.ColumnNameExpr)
	if !ok1 || !ok2 {
		return nil, nil, 0, 0, false
	}
	lt, rt = c.tableOf(l.Name.Table.O), c.tableOf(r.Name.Table.O)
	if lt < 0 || rt < 0 || lt == rt {
		return nil, nil, 0, 0, false
	}
	return l, r, lt, rt, true
}

// colocated says whether rows of tables a and b that are equal on columns
// ca and cb always live on the same shard.
func colocatedPair(a, b *chainTable, ca, cb *ast.ColumnNameExpr) bool {
	if a.ref.ks == nil || b.ref.ks == nil || a.ref.ks.Name != b.ref.ks.Name {
		return false
	}
	if !a.ref.ks.Sharded {
		return true
	}
	if a.ref.table == nil || b.ref.table == nil {
		return false
	}
	if a.ref.table.Type == "reference" || b.ref.table.Type == "reference" {
		return false
	}
	pa, va, ok1 := primaryVindex(a.ref.table)
	pb, vb, ok2 := primaryVindex(b.ref.table)
	return ok1 && ok2 && va.Type() == vb.Type() && strings.EqualFold(ca.Name.Name.O, pa) && strings.EqualFold(cb.Name.Name.O, pb)
}

func isReference(t *chainTable) bool {
	return t.ref.table != nil && t.ref.table.Type == "reference"
}

// chainJoin plans a join of three or more tables (or of two tables in a
// shape gatewayJoin does not take) as a chain of Joins.
func (b *builder) chainJoin(sel *ast.SelectStmt) (engine.Primitive, error) {
	c := &chain{lock: sel.LockInfo}
	var innerOn []ast.ExprNode
	if err := flattenChain(sel.From.TableRefs, &c.tables, &innerOn, false); err != nil {
		return nil, err
	}
	for _, t := range c.tables {
		tn := t.ts.Source.(*ast.TableName)
		ref, err := b.resolveTable(tn)
		if err != nil {
			return nil, err
		}
		if ref.system {
			return nil, unsupported("a query joining system schema tables with sharded tables")
		}
		t.ref, t.name = ref, t.ts.AsName.O
		if t.name == "" {
			t.name = tn.Name.O
		}
		if c.tableOf(t.name) >= 0 && c.tables[c.tableOf(t.name)] != t {
			return nil, sqlerror.New(sqlerror.User, mysql.ER_NONUNIQ_TABLE, "Not unique table/alias: '%s'", t.name)
		}
	}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			return nil, unsupported("* in a join of more than two tables across shards")
		}
	}
	if err := keepFieldNames(sel); err != nil {
		return nil, err
	}
	where := splitAnd(sel.Where, nil)
	for i, t := range c.tables {
		if !t.left {
			continue
		}
		for _, e := range where {
			if nullRejecting(e, c, i) {
				// The WHERE drops t's NULL-extended rows: an inner join.
				t.left = false
				innerOn = append(innerOn, t.on...)
				t.on = nil
				break
			}
		}
	}
	terms := append(append([]ast.ExprNode(nil), innerOn...), where...)
	if err := c.group(terms); err != nil {
		return nil, err
	}
	if err := c.placeTerms(terms); err != nil {
		return nil, err
	}
	if sel.GroupBy != nil || sel.Having != nil || findNode(sel.Fields, isAggregate) || sel.Distinct ||
		(sel.OrderBy != nil && findNode(sel.OrderBy, isAggregate)) {
		return b.groupedChain(c, sel)
	}
	return b.plainChain(c, sel)
}

// group forms the groups and their join order.
func (c *chain) group(terms []ast.ExprNode) error {
	prefix := len(c.tables)
	for i, t := range c.tables {
		if t.left {
			prefix = i
			break
		}
	}
	parent := make([]int, len(c.tables))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	for _, e := range terms {
		l, r, lt, rt, ok := c.columnEquality(e)
		if ok && lt < prefix && rt < prefix && colocatedPair(c.tables[lt], c.tables[rt], l, r) {
			parent[find(lt)] = find(rt)
		}
	}
	// A reference table joins the first table of its keyspace it is tied
	// to (every shard holds a copy of it).
	for ri := 0; ri < prefix; ri++ {
		rtab := c.tables[ri]
		if !isReference(rtab) || find(ri) != ri {
			continue
		}
	terms:
		for _, e := range terms {
			gs := map[int]bool{}
			for _, k := range columnsOf(e, "") {
				if t := c.tableOf(k.col.Table.O); t >= 0 {
					gs[t] = true
				}
			}
			if !gs[ri] {
				continue
			}
			for mi := 0; mi < prefix; mi++ {
				m := c.tables[mi]
				if gs[mi] && mi != ri && !isReference(m) && m.ref.ks != nil && rtab.ref.ks != nil && m.ref.ks.Name == rtab.ref.ks.Name {
					parent[ri] = find(mi)
					break terms
				}
			}
		}
	}
	// Groups in FROM order; the group's own table is its first table that
	// is not a reference table (it decides the routing).
	root := map[int]int{}
	for i, t := range c.tables {
		k := i
		if i < prefix {
			k = find(i)
		}
		g, ok := root[k]
		if !ok {
			g = len(c.groups)
			root[k] = g
			c.groups = append(c.groups, nil)
			c.leftGroup = append(c.leftGroup, t.left)
		}
		t.group = g
	}
	for g := range c.groups {
		var members []*chainTable
		for _, t := range c.tables {
			if t.group == g {
				members = append(members, t)
			}
		}
		main := members[0]
		for _, m := range members {
			if !isReference(m) {
				main = m
				break
			}
		}
		sd := &joinSide{ts: main.ts, ref: main.ref, name: main.name, lock: c.lock}
		for _, m := range members {
			if m != main {
				sd.attached = append(sd.attached, attached{ts: m.ts, name: m.name})
			}
		}
		c.groups[g] = sd
	}
	if len(c.groups) < 2 {
		return unsupported("this join of tables across shards")
	}
	// Join order: the groups of inner joins, each next one tied to those
	// before it by an equality (preferring one that routes it by its
	// vindex); then the rest as written.
	nPrefix := 0
	for _, t := range c.tables[:prefix] {
		nPrefix = max(nPrefix, t.group+1)
	}
	if prefix == 0 {
		nPrefix = 1
	}
	c.pos = make([]int, len(c.groups))
	for g := range c.pos {
		c.pos[g] = -1
	}
	c.place(0)
	for len(c.order) < nPrefix {
		next := -1
		for _, wantVindex := range []bool{true, false} {
			for g := 0; g < nPrefix && next < 0; g++ {
				if c.pos[g] < 0 && c.tiedToPlaced(g, terms, wantVindex) {
					next = g
				}
			}
		}
		for g := 0; g < nPrefix && next < 0; g++ {
			if c.pos[g] < 0 {
				next = g // no equality ties it: a cross join step
			}
		}
		c.place(next)
	}
	for g := nPrefix; g < len(c.groups); g++ {
		c.place(g)
	}
	c.steps = make([]chainStep, len(c.groups))
	c.on = make([][]ast.ExprNode, len(c.groups))
	return nil
}

func (c *chain) place(g int) {
	c.pos[g] = len(c.order)
	c.order = append(c.order, g)
}

// tiedToPlaced says whether an equality of columns ties group g to a
// group already placed (with wantVindex, on g's routing vindex column).
func (c *chain) tiedToPlaced(g int, terms []ast.ExprNode, wantVindex bool) bool {
	for _, e := range terms {
		l, r, lt, rt, ok := c.columnEquality(e)
		if !ok {
			continue
		}
		gl, gr := c.tables[lt].group, c.tables[rt].group
		var col ast.ExprNode
		switch {
		case gl == g && gr != g && c.pos[gr] >= 0:
			col = l
		case gr == g && gl != g && c.pos[gl] >= 0:
			col = r
		default:
			continue
		}
		if !wantVindex || c.routedBy(g, col) {
			return true
		}
	}
	return false
}

// routedBy says whether column col is the primary vindex column of group
// g's own table (so join values of it pick the group's shards).
func (c *chain) routedBy(g int, col ast.ExprNode) bool {
	sd := c.groups[g]
	cn, ok := unparen(col).(*ast.ColumnNameExpr)
	if !ok || sd.ref.ks == nil || !sd.ref.ks.Sharded || sd.ref.table == nil || sd.ref.table.Type == "reference" {
		return false
	}
	pc, _, ok := primaryVindex(sd.ref.table)
	return ok && strings.EqualFold(pc, cn.Name.Name.O) && strings.EqualFold(cn.Name.Table.O, sd.name)
}

// placeTerms gives each WHERE and ON term to the group query that can
// evaluate it, makes it the join key of a step, or leaves it to the
// gateway: over a step's pairs (on) or, for a WHERE term on a LEFT
// JOINed group, over the joined rows (post).
func (c *chain) placeTerms(terms []ast.ExprNode) error {
	for _, e := range terms {
		gs, err := c.groupsOf(e)
		if err != nil {
			return err
		}
		switch len(gs) {
		case 0:
			first := c.groups[c.order[0]]
			first.where = append(first.where, e)
		case 1:
			if c.leftGroup[gs[0]] {
				// Not NULL-rejecting (chainJoin made the others' LEFT
				// JOINs inner): true or not for NULL-extended rows too.
				c.post = append(c.post, e)
				continue
			}
			c.groups[gs[0]].where = append(c.groups[gs[0]].where, e)
		default:
			c.joinTerm(e, gs, false)
		}
	}
	for _, t := range c.tables {
		if !t.left {
			continue
		}
		for _, e := range t.on {
			gs, err := c.groupsOf(e)
			if err != nil {
				return err
			}
			switch {
			case len(gs) == 0 || len(gs) == 1 && gs[0] == t.group:
				// The LEFT JOINed table's own condition (or a constant):
				// its query keeps only the rows that may match.
				c.groups[t.group].where = append(c.groups[t.group].where, e)
			case len(gs) == 1:
				// A condition on the outer tables only: evaluated with the
				// step's pairs, an outer row failing it keeps NULLs.
				c.on[t.group] = append(c.on[t.group], e)
			default:
				if !slices.Contains(gs, t.group) {
					c.on[t.group] = append(c.on[t.group], e)
					continue
				}
				c.joinTerm(e, gs, true)
			}
		}
	}
	return nil
}

// joinTerm places term e reading groups gs (two or more): the join key
// of the latest of its groups' step if it is the first equality of
// columns there, else a condition of that step evaluated at the gateway
// (or, for a WHERE term whose latest group is LEFT JOINed, over the
// joined rows). fromOn says it is a LEFT JOIN's ON term.
func (c *chain) joinTerm(e ast.ExprNode, gs []int, fromOn bool) {
	last := gs[0]
	for _, g := range gs {
		if c.pos[g] > c.pos[last] {
			last = g
		}
	}
	if c.leftGroup[last] && !fromOn {
		c.post = append(c.post, e)
		return
	}
	l, r, lt, rt, ok := c.columnEquality(e)
	if ok && len(gs) == 2 && (c.tables[lt].group == last || c.tables[rt].group == last) {
		if c.tables[lt].group == last {
			l, r = r, l
			lt = rt
		}
		if !c.steps[last].set {
			c.steps[last] = chainStep{left: l, right: r, leftGroup: c.tables[lt].group, set: true}
		} else {
			c.steps[last].more = append(c.steps[last].more, chainKey{left: l, right: r, leftGroup: c.tables[lt].group})
		}
		return
	}
	c.on[last] = append(c.on[last], e)
}

// chainCol is a column of one group's query.
type chainCol struct{ group, idx int }

func (c *chain) add(g int, f *ast.SelectField) chainCol {
	sd := c.groups[g]
	sd.fields = append(sd.fields, f)
	return chainCol{g, len(sd.fields) - 1}
}

// singleGroup is the group that computes e: the one whose columns it
// reads, the first for a constant.
func (c *chain) singleGroup(e ast.ExprNode, what string) (int, error) {
	gs, err := c.groupsOf(e)
	if err != nil {
		return 0, err
	}
	switch len(gs) {
	case 0:
		return c.order[0], nil
	case 1:
		return gs[0], nil
	}
	return 0, unsupportedf("%s of columns of several tables of a join across shards", what)
}

// groupedChain plans GROUP BY, DISTINCT, HAVING and aggregates over a
// chain the way groupedJoin does over two tables: per joined row
// partials merged by GroupAggregate, result types of SUM, AVG and
// computed columns from field queries on one shard of their group.
func (b *builder) groupedChain(c *chain, sel *ast.SelectStmt) (engine.Primitive, error) {
	g, ga, lim, err := planGrouping(sel)
	if err != nil {
		return nil, err
	}
	var cols []rowsColumn
	computed := false
	for col, f := range g.fields {
		var phys ast.ExprNode = newValueExpr(nil, "", "")
		if !g.computedAt[col] {
			if phys, err = partialOf(f.Expr); err != nil {
				return nil, err
			}
		}
		grp, err := c.singleGroup(phys, "expressions")
		if err != nil {
			return nil, err
		}
		if gw, err := c.needsGateway(phys); err != nil {
			return nil, err
		} else if gw {
			// A partial of a LEFT JOINed table's expression
			// (SUM(IFNULL(o.x, 0))): its value on NULL-extended rows.
			rx, err := b.rewriteOverRows(c, phys, func(h int) bool { return c.leftGroup[h] })
			if err != nil {
				return nil, err
			}
			cols = append(cols, rowsColumn{expr: rx, orig: phys, name: f.AsName})
			computed = true
			continue
		}
		cols = append(cols, rowsColumn{col: c.add(grp, &ast.SelectField{Expr: phys, AsName: f.AsName})})
	}
	var in engine.Primitive
	if computed {
		in, err = b.projectedChainRows(c, cols)
	} else {
		var out []chainCol
		for _, rc := range cols {
			out = append(out, rc.col)
		}
		in, err = b.chainRows(c, out)
	}
	if err != nil {
		return nil, err
	}
	ga.Input, ga.RetypeCounts = in, true
	probeFields := make([][]*ast.SelectField, len(c.groups))
	probeCols := make([][]int, len(c.groups))
	for col := 0; col < len(g.fields); col++ {
		if !g.needsTypeProbe(col) {
			continue
		}
		f := g.fields[col]
		grp, err := c.singleGroup(f.Expr, "expressions of aggregate functions")
		if err != nil {
			return nil, err
		}
		probeFields[grp] = append(probeFields[grp], &ast.SelectField{Expr: f.Expr, AsName: f.AsName})
		probeCols[grp] = append(probeCols[grp], col)
	}
	for grp, fields := range probeFields {
		if len(fields) == 0 {
			continue
		}
		probe, err := typeProbe(c.groups[grp], fields, probeCols[grp])
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
