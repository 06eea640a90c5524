package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
)

// A grouped, DISTINCT or LIMITed derived table (or a derived UNION) joined
// with one table: the derived statement's rows are the outer side of a
// gateway Join (engine.Join runs the table's query once per batch of join
// values, in an IN list), and AggregateRows evaluates the outer query over
// the joined rows. The input's columns are the table's (each with its
// weight_string), then the derived table's. The derived table must be the
// preserved side: an inner join, or the left of a LEFT JOIN.

// derivedJoin is the table joined with the derived table and how.
type derivedJoin struct {
	ts    *ast.TableSource
	name  string // what columns qualify the table with
	ref   tableRef
	outer bool // LEFT JOIN: derived rows without a match are kept
	on    []ast.ExprNode
	// cols are the table's columns the query reads, in input order (each
	// then its weight_string).
	cols []string
	// where are the terms on the table alone, for its query.
	where []ast.ExprNode
}

// joinedDerived finds `derived JOIN table ON ...` (either order for an
// inner join) in sel's FROM; ok is false for any other FROM.
func (b *builder) joinedDerived(sel *ast.SelectStmt) (*ast.TableSource, *derivedJoin, bool) {
	if sel.From == nil || sel.From.TableRefs == nil {
		return nil, nil, false
	}
	j := sel.From.TableRefs
	if j.Right == nil || j.NaturalJoin || len(j.Using) > 0 || j.On == nil {
		return nil, nil, false
	}
	l, ok1 := j.Left.(*ast.TableSource)
	r, ok2 := j.Right.(*ast.TableSource)
	if !ok1 || !ok2 {
		return nil, nil, false
	}
	isDerived := func(ts *ast.TableSource) bool {
		switch ts.Source.(type) {
		case *ast.SelectStmt, *ast.SetOprStmt:
			return true
		}
		return false
	}
	dts, tts := l, r
	switch {
	case isDerived(l) && !isDerived(r) && (j.Tp == ast.CrossJoin || j.Tp == ast.LeftJoin):
	case isDerived(r) && !isDerived(l) && j.Tp == ast.CrossJoin:
		dts, tts = r, l
	default:
		return nil, nil, false
	}
	tn, ok := tts.Source.(*ast.TableName)
	if !ok {
		return nil, nil, false
	}
	ref, err := b.resolveTable(tn)
	if err != nil || ref.system || ref.ks == nil {
		return nil, nil, false
	}
	name := tts.AsName.O
	if name == "" {
		name = tn.Name.O
	}
	return dts, &derivedJoin{ts: tts, name: name, ref: ref, outer: j.Tp == ast.LeftJoin, on: splitAnd(j.On.Expr, nil)}, true
}

// ownsTable says whether a column reference names the joined table:
// qualified with its name, or unqualified and no derived column.
func (p *rowsPlan) ownsTable(c *ast.ColumnName) bool {
	if p.join == nil || c.Schema.O != "" {
		return false
	}
	if c.Table.O != "" {
		return strings.EqualFold(c.Table.O, p.join.name)
	}
	for _, n := range p.names {
		if strings.EqualFold(n, c.Name.O) {
			return false
		}
	}
	return true
}

// tableColumn is the input column of the joined table's column name.
func (p *rowsPlan) tableColumn(name string) int {
	for i, c := range p.join.cols {
		if strings.EqualFold(c, name) {
			return 2 * i
		}
	}
	return -1
}

// collectTableColumns lists the joined table's columns the query reads
// and fixes where the derived table's columns start in the input.
func (p *rowsPlan) collectTableColumns() {
	v := &columnLister{}
	sel := p.sel
	sel.Fields.Accept(v)
	if sel.Where != nil {
		sel.Where.Accept(v)
	}
	if sel.GroupBy != nil {
		sel.GroupBy.Accept(v)
	}
	if sel.Having != nil {
		sel.Having.Accept(v)
	}
	if sel.OrderBy != nil {
		sel.OrderBy.Accept(v)
	}
	for _, t := range p.join.on {
		t.Accept(v)
	}
	for _, c := range v.cols {
		if p.ownsTable(c.Name) && p.tableColumn(c.Name.Name.O) < 0 {
			p.join.cols = append(p.join.cols, c.Name.Name.O)
		}
	}
	p.base = 2 * len(p.join.cols)
}

// readsTableOnly says whether e reads columns of the joined table only
// (and at least one); readsDerivedOnly the derived table's only.
func (p *rowsPlan) readsTableOnly(e ast.ExprNode) bool {
	v := &columnLister{}
	e.Accept(v)
	for _, c := range v.cols {
		if !p.ownsTable(c.Name) {
			return false
		}
	}
	return len(v.cols) > 0
}

func (p *rowsPlan) readsDerivedOnly(e ast.ExprNode) bool {
	v := &columnLister{}
	e.Accept(v)
	for _, c := range v.cols {
		if p.ownsTable(c.Name) {
			return false
		}
	}
	return true
}

// joinTerms places the ON and WHERE terms: the one equality of a derived
// column and a table column is the join's key, terms on the table alone
// go to its query, the others are returned for the gateway's filter.
func (p *rowsPlan) joinTerms() (key [2]*ast.ColumnNameExpr, rest []ast.ExprNode, err error) {
	place := func(term ast.ExprNode, fromOn bool) error {
		if be, ok := unparen(term).(*ast.BinaryOperationExpr); ok && be.Op == opcode.EQ && fromOn && key[0] == nil {
			lc, ok1 := unparen(be.L).(*ast.ColumnNameExpr)
			rc, ok2 := unparen(be.R).(*ast.ColumnNameExpr)
			if ok1 && ok2 && p.ownsTable(lc.Name) != p.ownsTable(rc.Name) {
				if p.ownsTable(lc.Name) {
					lc, rc = rc, lc
				}
				key = [2]*ast.ColumnNameExpr{lc, rc}
				return nil
			}
		}
		switch {
		case p.readsTableOnly(term) && (fromOn || !p.join.outer):
			p.join.where = append(p.join.where, term)
		case p.join.outer && fromOn:
			return unsupported("ON conditions on the outer table of a LEFT JOIN across shards")
		case p.join.outer && !p.readsDerivedOnly(term):
			return unsupported("WHERE conditions on the inner table of a LEFT JOIN across shards")
		default:
			rest = append(rest, term)
		}
		return nil
	}
	for _, t := range p.join.on {
		if err := place(t, true); err != nil {
			return key, nil, err
		}
	}
	if p.sel.Where != nil {
		for _, t := range splitAnd(p.sel.Where, nil) {
			if err := place(t, false); err != nil {
				return key, nil, err
			}
		}
	}
	if key[0] == nil {
		return key, nil, unsupported("join conditions other than one equality of columns across shards")
	}
	return key, rest, nil
}

// joinKey is the derived statement's column (counted in its own columns)
// joined on, and its weight_string column: the column itself where it has
// none (a number, compared by value); a string aggregate without one
// cannot be compared in its collation.
func (p *rowsPlan) joinKey(c *ast.ColumnNameExpr) (col, weight int, err error) {
	in := p.input(c.Name)
	if in < p.base {
		return 0, 0, errUnknownColumn(c.Name, "on clause")
	}
	col = in - p.base
	w := p.weight(in)
	if w != engine.NoWeight {
		return col, w - p.base, nil
	}
	if col < len(p.names) && ((p.inner != nil && needsWeight(p.exprs[col])) || (p.inner == nil && needsWeight(p.branches[0].Fields.Fields[col].Expr))) {
		return 0, 0, unsupported("joining on a MIN, MAX or GROUP_CONCAT column of a derived table across shards")
	}
	return col, col, nil
}

// joinInput is the gateway Join of the derived statement's rows (left)
// with the table's query (right), its output the table's columns, then
// the derived table's.
func (p *rowsPlan) joinInput(left engine.Primitive, key *ast.ColumnNameExpr, lcol, lweight int) (engine.Primitive, error) {
	dj := p.join
	var fields []*ast.SelectField
	for _, c := range dj.cols {
		col := &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: ast.NewCIStr(dj.name), Name: ast.NewCIStr(c)}}
		fields = append(fields, &ast.SelectField{Expr: col}, &ast.SelectField{Expr: weightOf(col)})
	}
	rkey := &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: ast.NewCIStr(dj.name), Name: key.Name.Name}}
	fields = append(fields, &ast.SelectField{Expr: rkey}, &ast.SelectField{Expr: weightOf(rkey)})
	where := append(dj.where, &ast.PatternInExpr{Expr: rkey, List: []ast.ExprNode{newHoleExpr(engine.HoleValsText)}})
	q := &ast.SelectStmt{
		Kind:           ast.SelectStmtKindSelect,
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Fields:         &ast.FieldList{Fields: fields},
		From:           &ast.TableRefsClause{TableRefs: &ast.Join{Left: dj.ts}},
		Where:          andAll(where),
	}
	sd := &joinSide{ts: dj.ts, ref: dj.ref, name: dj.name}
	rt, err := p.b.sideRouting(sd, q, false)
	if err != nil {
		return nil, err
	}
	rightVindex := false
	if dj.ref.ks.Sharded && dj.ref.table != nil && dj.ref.table.Type != "reference" {
		col, vx, ok := primaryVindex(dj.ref.table)
		if rightVindex = ok && strings.EqualFold(col, key.Name.Name.O); rightVindex {
			rt.Vindex = vx
		}
	}
	tmpl, err := render(q)
	if err != nil {
		return nil, err
	}
	jn := &engine.Join{
		Left: left, Right: &engine.Route{Routing: rt, Query: tmpl}, Outer: dj.outer,
		LeftKey:     engine.GroupKey{Col: lcol, Weight: lweight},
		RightKey:    engine.GroupKey{Col: -2, Weight: -1},
		RightHidden: 2, RightVindex: rightVindex,
	}
	for i := 0; i < p.base; i++ {
		jn.Cols = append(jn.Cols, engine.JoinColumn{Right: true, Col: i})
	}
	for i := 0; i < p.leftColumns(); i++ {
		jn.Cols = append(jn.Cols, engine.JoinColumn{Col: i})
	}
	return jn, nil
}

// leftColumns is the number of columns the derived statement's plan
// returns: its own, those added, and a UNION DISTINCT's kept weights.
func (p *rowsPlan) leftColumns() int {
	n := len(p.names) + p.extra
	if p.distinct {
		for _, f := range p.branches[0].Fields.Fields[:len(p.names)] {
			if needsWeight(f.Expr) {
				n++
			}
		}
	}
	return n
}
