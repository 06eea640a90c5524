package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardgate/shardgate/vindex"
)

// Co-location: a statement whose sharded table instances — in joins,
// subqueries, derived tables and CTEs — are all tied together by
// equalities of primary vindex columns (same vindex type) combines only
// rows that share a keyspace id, so every shard can answer its part of the
// statement as written, and the gateway merges the parts as it merges a
// single table's.
//
// The rules, per block (a SELECT, or the top UPDATE/DELETE):
//   - its own FROM instances (tables, and the instances of its derived
//     tables) are connected by its own ties: `a.vcol = b.vcol` at the AND
//     level of its WHERE or of a join's ON;
//   - a subquery in its expressions either reads no sharded table, or is
//     correlated: each of its FROM instances is tied (directly or through
//     its siblings) to an instance of an enclosing block, so one
//     evaluation reads rows of one keyspace id only; or it is
//     `x.vcol IN (SELECT y.vcol ...)` at the AND level of a WHERE, not
//     negated, whose subquery is itself shard-local;
//   - a derived table or CTE, and an IN subquery, must be shard-local:
//     connected, no LIMIT, grouping, DISTINCT and window partitions only
//     over a vindex column (so no group or partition spans two shards).
// Ties inside a subquery never connect the enclosing block's own
// instances: `NOT EXISTS (... o.k = a.k AND o.k = b.k)` holds for pairs
// of a and b on different shards.

// coInstance is one sharded table instance of the statement.
type coInstance struct {
	col string
	vx  vindex.Functional
	src *source
}

// coSource is one FROM item of a block.
type coSource struct {
	name    string // alias, or the table's name
	schema  string // the table's qualifier, when it has no alias
	inst    int    // a sharded table instance, or -1
	derived *coBlock
	table   *source // a table (sharded or reference), for routing
}

type coKind int

const (
	coTop coKind = iota
	coDerived
	coScalar // a subquery in an expression: EXISTS, scalar, ANY/ALL, IN without a vindex tie
	coIn     // `x IN (SELECT ...)`
)

// coBlock is one SELECT (or the top UPDATE/DELETE) of the statement.
type coBlock struct {
	parent *coBlock
	kind   coKind
	sel    *ast.SelectStmt // nil for the top UPDATE/DELETE
	srcs   []coSource
	conj   []ast.ExprNode // AND-level terms of WHERE and of every ON
	subs   []*coBlock
	ctes   map[string]*coBlock
	// For coIn: the IN's left operand (resolved in parent) and whether
	// the IN is an AND-level term of parent's WHERE, not negated.
	inLeft  ast.ExprNode
	inTied  bool
	windows bool // the block uses window functions
}

// coAnalysis holds what the walk found; bad is set by any shape it does
// not reason about.
type coAnalysis struct {
	b     *builder
	p     placement
	insts []coInstance
	bad   bool
}

// colocated reports whether stmt is co-located, and returns its top block.
func (b *builder) colocated(stmt ast.StmtNode, p placement) (*coBlock, []coInstance, bool) {
	a := &coAnalysis{b: b, p: p}
	var top *coBlock
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		top = a.selectBlock(s, nil, coTop)
	case *ast.UpdateStmt:
		top = a.dmlBlock(s.With, s.TableRefs)
		if top != nil {
			for _, as := range s.List {
				a.exprSubs(top, as.Expr, nil)
			}
			a.exprSubs(top, s.Where, s.Where)
		}
	case *ast.DeleteStmt:
		top = a.dmlBlock(s.With, s.TableRefs)
		if top != nil {
			a.exprSubs(top, s.Where, s.Where)
		}
	default:
		return nil, nil, false
	}
	if a.bad || top == nil || !a.check(top) {
		return nil, nil, false
	}
	return top, a.insts, true
}

func (a *coAnalysis) dmlBlock(with *ast.WithClause, refs *ast.TableRefsClause) *coBlock {
	blk := &coBlock{kind: coTop}
	a.withClause(blk, with)
	if refs == nil || refs.TableRefs == nil {
		a.bad = true
		return nil
	}
	a.from(blk, refs.TableRefs)
	return blk
}

func (a *coAnalysis) withClause(blk *coBlock, w *ast.WithClause) {
	if w == nil {
		return
	}
	blk.ctes = map[string]*coBlock{}
	for _, c := range w.CTEs {
		if w.IsRecursive && readsItself(c) {
			if !a.recursiveCTE(blk, c) { // build_recursive.go
				a.bad = true
				return
			}
			continue
		}
		sel, ok := c.Query.Query.(*ast.SelectStmt)
		if !ok {
			a.bad = true
			return
		}
		cb := a.selectBlock(sel, blk, coDerived)
		if cb == nil {
			return
		}
		if len(c.ColNameList) > 0 {
			if len(c.ColNameList) != len(sel.Fields.Fields) {
				a.bad = true
				return
			}
			for _, f := range sel.Fields.Fields {
				if f.WildCard != nil {
					a.bad = true
					return
				}
			}
		}
		blk.ctes[c.Name.L] = cb
		blk.subs = blk.subs[:len(blk.subs)-1] // a CTE joins the tree where it is referenced
	}
}

// selectBlock walks one SELECT into a block (nil and bad on a shape the
// analysis does not handle).
func (a *coAnalysis) selectBlock(sel *ast.SelectStmt, parent *coBlock, kind coKind) *coBlock {
	if sel.Kind != ast.SelectStmtKindSelect || sel.SelectIntoOpt != nil {
		a.bad = true
		return nil
	}
	blk := &coBlock{parent: parent, kind: kind, sel: sel}
	if parent != nil {
		parent.subs = append(parent.subs, blk)
	}
	a.withClause(blk, sel.With)
	if sel.From != nil && sel.From.TableRefs != nil {
		a.from(blk, sel.From.TableRefs)
	}
	blk.conj = splitAnd(sel.Where, blk.conj)
	for _, f := range sel.Fields.Fields {
		if f.Expr != nil {
			a.exprSubs(blk, f.Expr, nil)
		}
	}
	a.exprSubs(blk, sel.Where, sel.Where)
	if sel.GroupBy != nil {
		for _, it := range sel.GroupBy.Items {
			a.exprSubs(blk, it.Expr, nil)
		}
	}
	if sel.Having != nil {
		a.exprSubs(blk, sel.Having.Expr, nil)
	}
	if sel.OrderBy != nil {
		for _, it := range sel.OrderBy.Items {
			a.exprSubs(blk, it.Expr, nil)
		}
	}
	blk.windows = len(sel.WindowSpecs) > 0 || findOwn(sel.Fields, isWindowFunc) ||
		(sel.OrderBy != nil && findOwn(sel.OrderBy, isWindowFunc))
	return blk
}

// from adds a FROM clause's items to blk.
func (a *coAnalysis) from(blk *coBlock, rs ast.ResultSetNode) {
	switch x := rs.(type) {
	case *ast.Join:
		if x.NaturalJoin || len(x.Using) > 0 {
			a.bad = true
			return
		}
		first := len(blk.srcs)
		a.from(blk, x.Left)
		mid := len(blk.srcs)
		if x.Right != nil {
			a.from(blk, x.Right)
		}
		// The rows an outer join keeps must live on one shard each: a
		// preserved side of reference tables or recursive CTEs only (the
		// same on every shard) would be NULL-extended by every shard.
		left, right := blk.srcs[first:mid], blk.srcs[mid:]
		switch {
		case x.Tp == ast.LeftJoin && !hasInstance(left) && hasInstance(right),
			x.Tp == ast.RightJoin && !hasInstance(right) && hasInstance(left):
			a.bad = true
			return
		}
		if x.On != nil {
			blk.conj = splitAnd(x.On.Expr, blk.conj)
			a.exprSubs(blk, x.On.Expr, x.On.Expr)
		}
	case *ast.TableSource:
		switch src := x.Source.(type) {
		case *ast.SelectStmt:
			if x.AsName.O == "" {
				a.bad = true
				return
			}
			d := a.selectBlock(src, blk, coDerived)
			blk.srcs = append(blk.srcs, coSource{name: x.AsName.O, inst: -1, derived: d})
		case *ast.TableName:
			if src.Schema.O == "" {
				if cte := blk.cte(src.Name.L); cte != nil {
					if cte.parent != nil && cte.referenced() {
						a.bad = true // two references would need two instances
						return
					}
					name := src.Name.O
					if x.AsName.O != "" {
						name = x.AsName.O
					}
					cte.parent = blk
					blk.subs = append(blk.subs, cte)
					blk.srcs = append(blk.srcs, coSource{name: name, inst: -1, derived: cte})
					return
				}
			}
			ref, ok := refOf(a.p, src)
			if !ok || ref.ks == nil || !ref.ks.Sharded {
				a.bad = true
				return
			}
			s := coSource{name: src.Name.O, schema: src.Schema.O, inst: -1, table: &source{ref: ref, alias: x.AsName.O}}
			if x.AsName.O != "" {
				s.name, s.schema = x.AsName.O, ""
			}
			if ref.table.Type != "reference" {
				col, vx, ok := primaryVindex(ref.table)
				if !ok {
					a.bad = true
					return
				}
				s.inst = len(a.insts)
				a.insts = append(a.insts, coInstance{col: col, vx: vx, src: s.table})
			}
			blk.srcs = append(blk.srcs, s)
		default:
			a.bad = true
		}
	default:
		a.bad = true
	}
}

// cte finds a CTE visible from blk by its lower-case name.
func (blk *coBlock) cte(name string) *coBlock {
	for b := blk; b != nil; b = b.parent {
		if c := b.ctes[name]; c != nil {
			return c
		}
	}
	return nil
}

// referenced reports whether a CTE block was already placed in the tree.
func (blk *coBlock) referenced() bool {
	for _, s := range blk.parent.subs {
		if s == blk {
			return true
		}
	}
	return false
}

// exprSubs finds the subqueries of e (not descending into them) and adds
// them to blk as blocks. where is blk's WHERE or ON condition when e is
// one, so that IN subqueries at its AND level can tie.
func (a *coAnalysis) exprSubs(blk *coBlock, e ast.ExprNode, where ast.ExprNode) {
	if e == nil {
		return
	}
	top := map[ast.ExprNode]bool{}
	for _, t := range splitAnd(where, nil) {
		top[unparen(t)] = true
	}
	e.Accept(&subFinder{a: a, blk: blk, andLevel: top})
}

type subFinder struct {
	a        *coAnalysis
	blk      *coBlock
	andLevel map[ast.ExprNode]bool
}

func (v *subFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.PatternInExpr:
		if x.Sel == nil {
			return n, false
		}
		x.Expr.Accept(v)
		q := v.query(x.Sel)
		if q == nil {
			return n, true
		}
		if sb := v.a.selectBlock(q, v.blk, coIn); sb != nil {
			sb.inLeft = x.Expr
			sb.inTied = !x.Not && v.andLevel[x]
		}
		return n, true
	case *ast.SubqueryExpr:
		if q := v.query(x); q != nil {
			v.a.selectBlock(q, v.blk, coScalar)
		}
		return n, true
	}
	return n, false
}

func (v *subFinder) query(e ast.ExprNode) *ast.SelectStmt {
	sq, ok := e.(*ast.SubqueryExpr)
	if !ok {
		v.a.bad = true
		return nil
	}
	sel, ok := sq.Query.(*ast.SelectStmt)
	if !ok {
		v.a.bad = true
		return nil
	}
	return sel
}

func (v *subFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// vindexInst resolves e, read in blk, to the sharded instance whose
// primary vindex column it is: -1 when it is not one.
func (a *coAnalysis) vindexInst(blk *coBlock, e ast.ExprNode) int {
	c, ok := unparen(e).(*ast.ColumnNameExpr)
	if !ok {
		return -1
	}
	name := c.Name
	if name.Table.O == "" {
		// Unqualified: only the block's single FROM item is sure to
		// have it (a vindex column exists in its table).
		if len(blk.srcs) != 1 {
			return -1
		}
		return a.sourceColumn(&blk.srcs[0], name.Name.O)
	}
	for b := blk; b != nil; b = b.parent {
		for i := range b.srcs {
			s := &b.srcs[i]
			if s.name != name.Table.O {
				continue
			}
			if name.Schema.O != "" && name.Schema.O != s.schema {
				return -1
			}
			return a.sourceColumn(s, name.Name.O)
		}
	}
	return -1
}

// sourceColumn resolves column col of a FROM item.
func (a *coAnalysis) sourceColumn(s *coSource, col string) int {
	if s.inst >= 0 {
		if strings.EqualFold(a.insts[s.inst].col, col) {
			return s.inst
		}
		return -1
	}
	d := s.derived
	if d == nil {
		return -1
	}
	for _, f := range d.sel.Fields.Fields {
		switch {
		case f.WildCard != nil:
			if f.WildCard.Table.O == "" && len(d.srcs) == 1 {
				if i := a.sourceColumn(&d.srcs[0], col); i >= 0 {
					return i
				}
			}
		case strings.EqualFold(f.AsName.O, col):
			return a.vindexInst(d, f.Expr)
		case f.AsName.O == "":
			if c, ok := f.Expr.(*ast.ColumnNameExpr); ok && strings.EqualFold(c.Name.Name.O, col) {
				return a.vindexInst(d, f.Expr)
			}
		}
	}
	return -1
}

// ownInstances lists the sharded instances of blk's FROM, through its
// derived tables.
func (blk *coBlock) ownInstances() []int {
	var out []int
	for _, s := range blk.srcs {
		if s.inst >= 0 {
			out = append(out, s.inst)
		} else if s.derived != nil {
			out = append(out, s.derived.ownInstances()...)
		}
	}
	return out
}

// unionFind over instance numbers.
type unionFind []int

func newUnionFind(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = i
	}
	return u
}

func (u unionFind) find(i int) int {
	for u[i] != i {
		u[i] = u[u[i]]
		i = u[i]
	}
	return i
}

func (u unionFind) union(i, j int) { u[u.find(i)] = u.find(j) }

// ties unions the instances that blk's own AND-level equalities tie, and
// those its derived tables tie inside themselves. It returns the
// instances of enclosing blocks that blk's equalities reach (correlation).
func (a *coAnalysis) ties(blk *coBlock, u unionFind) []int {
	own := map[int]bool{}
	for _, i := range blk.ownInstances() {
		own[i] = true
	}
	var outer []int
	for _, e := range blk.conj {
		be, ok := unparen(e).(*ast.BinaryOperationExpr)
		if !ok || be.Op != opcode.EQ {
			continue
		}
		l, r := a.vindexInst(blk, be.L), a.vindexInst(blk, be.R)
		if l < 0 || r < 0 || a.insts[l].vx.Type() != a.insts[r].vx.Type() {
			continue
		}
		u.union(l, r)
		if !own[l] {
			outer = append(outer, l)
		}
		if !own[r] {
			outer = append(outer, r)
		}
	}
	for _, s := range blk.srcs {
		if s.derived != nil {
			a.ties(s.derived, u)
		}
	}
	return outer
}

// check applies the rules to blk and, recursively, to its blocks.
func (a *coAnalysis) check(blk *coBlock) bool {
	own := blk.ownInstances()
	u := newUnionFind(len(a.insts))
	outer := a.ties(blk, u)
	// correlated: each of its instances is tied to an enclosing block's, so
	// one evaluation reads rows of one keyspace id.
	correlated := len(own) > 0 && len(outer) > 0 && connected(u, own, outer)
	switch {
	case len(own) == 0 && blk.kind != coTop:
		// Reference tables only (or none): the same on every shard.
	case blk.kind == coTop:
		if !connected(u, own, nil) {
			return false
		}
	case blk.kind == coDerived:
		if !connected(u, own, nil) || !a.shardLocal(blk) {
			return false
		}
	case correlated:
	case blk.kind == coIn:
		if !blk.inTied || !connected(u, own, nil) || len(blk.sel.Fields.Fields) != 1 || !a.shardLocal(blk) {
			return false
		}
		l := a.vindexInst(blk.parent, blk.inLeft)
		r := a.vindexInst(blk, blk.sel.Fields.Fields[0].Expr)
		if l < 0 || r < 0 || a.insts[l].vx.Type() != a.insts[r].vx.Type() {
			return false
		}
	default:
		return false // an uncorrelated subquery of sharded tables
	}
	if blk.kind == coTop && blk.windows && !a.windowsLocal(blk) {
		return false
	}
	for _, s := range blk.subs {
		if !a.check(s) {
			return false
		}
	}
	return true
}

// connected reports whether every instance of own is in one class, and,
// when anchors are given, that class holds one of them.
func connected(u unionFind, own, anchors []int) bool {
	if len(own) == 0 {
		return false
	}
	root := u.find(own[0])
	for _, i := range own[1:] {
		if u.find(i) != root {
			return false
		}
	}
	if anchors == nil {
		return true
	}
	for _, i := range anchors {
		if u.find(i) == root {
			return true
		}
	}
	return false
}

// shardLocal reports whether a block's rows are the union of what each
// shard computes: no LIMIT, and no group, DISTINCT row or window partition
// that could span two shards.
func (a *coAnalysis) shardLocal(blk *coBlock) bool {
	sel := blk.sel
	if sel.Limit != nil || (sel.SelectStmtOpts != nil && sel.SelectStmtOpts.CalcFoundRows) {
		return false
	}
	grouped := sel.GroupBy != nil || sel.Having != nil || findOwn(sel.Fields, isAggregate) ||
		(sel.OrderBy != nil && findOwn(sel.OrderBy, isAggregate))
	if grouped {
		if sel.GroupBy == nil || sel.GroupBy.Rollup || !a.anyVindex(blk, byExprs(sel.GroupBy.Items)) {
			return false
		}
	}
	if sel.Distinct || (sel.SelectStmtOpts != nil && sel.SelectStmtOpts.Distinct) {
		var fields []ast.ExprNode
		for _, f := range sel.Fields.Fields {
			fields = append(fields, f.Expr)
		}
		if !a.anyVindex(blk, fields) {
			return false
		}
	}
	return !blk.windows || a.windowsLocal(blk)
}

// windowsLocal reports whether every window function of blk partitions by
// a vindex column of it.
func (a *coAnalysis) windowsLocal(blk *coBlock) bool {
	ok := true
	check := func(n ast.Node) bool {
		w, is := n.(*ast.WindowFuncExpr)
		if !is {
			return false
		}
		if w.Spec.Name.O != "" || w.Spec.Ref.O != "" || w.Spec.PartitionBy == nil ||
			!a.anyVindex(blk, byExprs(w.Spec.PartitionBy.Items)) {
			ok = false
		}
		return false
	}
	if len(blk.sel.WindowSpecs) > 0 {
		return false
	}
	findOwn(blk.sel.Fields, check)
	if blk.sel.OrderBy != nil {
		findOwn(blk.sel.OrderBy, check)
	}
	return ok
}

func (a *coAnalysis) anyVindex(blk *coBlock, exprs []ast.ExprNode) bool {
	for _, e := range exprs {
		if e != nil && a.vindexInst(blk, e) >= 0 {
			return true
		}
	}
	return false
}

func byExprs(items []*ast.ByItem) []ast.ExprNode {
	out := make([]ast.ExprNode, len(items))
	for i, it := range items {
		out[i] = it.Expr
	}
	return out
}

// findOwn is findNode that does not look into subqueries: what it finds
// belongs to the block at hand.
func findOwn(n ast.Node, match func(ast.Node) bool) bool {
	if n == nil {
		return false
	}
	v := &ownFinder{match: match}
	n.Accept(v)
	return v.found
}

type ownFinder struct {
	match func(ast.Node) bool
	found bool
}

func (v *ownFinder) Enter(n ast.Node) (ast.Node, bool) {
	if v.found || isSubquery(n) {
		return n, true
	}
	if v.match(n) {
		v.found = true
		return n, true
	}
	return n, false
}

func (v *ownFinder) Leave(n ast.Node) (ast.Node, bool) { return n, !v.found }
