package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// derivedUnion rewrites a query whose only source is a UNION in a derived
// table into a UNION of the outer query over each branch, as MySQL's
// condition pushdown into a derived UNION does: `select x.a from (select
// id as a from t union all select id from u) x where x.a > 3 order by a`
// is `select x.a from (select id as a from t) x where x.a > 3 union all
// select x.a from (select id as a from u) x where x.a > 3 order by a`.
// Each branch is then planned as a derived table of its own. ok is false
// when sel is not of that shape.
func (b *builder) derivedUnion(sel *ast.SelectStmt) (*ast.SetOprStmt, bool, error) {
	ds := derivedSources(sel)
	if len(ds) != 1 || sourceCount(sel) != 1 {
		return nil, false, nil
	}
	u, ok := ds[0].ts.Source.(*ast.SetOprStmt)
	if !ok {
		return nil, false, nil
	}
	alias := ds[0].ts.AsName
	if alias.O == "" {
		return nil, true, errDerivedAlias()
	}
	switch {
	case u.With != nil:
		if err := b.inlineCTEs(&u.With, u); err != nil {
			return nil, true, err
		}
	}
	if u.OrderBy != nil || u.Limit != nil {
		return nil, true, unsupported("a derived UNION with ORDER BY or LIMIT across shards")
	}
	if sel.GroupBy != nil || sel.Having != nil || findOwn(sel.Fields, isAggregate) ||
		(sel.OrderBy != nil && findOwn(sel.OrderBy, isAggregate)) || sel.Distinct ||
		(sel.SelectStmtOpts != nil && sel.SelectStmtOpts.Distinct) || findNode(sel, isWindowFunc) ||
		sel.SelectIntoOpt != nil || sel.LockInfo != nil {
		return nil, true, unsupported("GROUP BY, DISTINCT or aggregate functions over a UNION in a derived table across shards")
	}
	var branches []*ast.SelectStmt
	distinct := false
	for i, n := range u.SelectList.Selects {
		br, ok := n.(*ast.SelectStmt)
		if !ok {
			return nil, true, unsupported("nested UNION in a derived table across shards")
		}
		if i > 0 && br.AfterSetOperator != nil && *br.AfterSetOperator == ast.Union {
			distinct = true
		}
		if i > 0 && (br.AfterSetOperator == nil || (*br.AfterSetOperator != ast.Union && *br.AfterSetOperator != ast.UnionAll)) {
			return nil, true, unsupported("INTERSECT and EXCEPT across shards")
		}
		branches = append(branches, br)
	}
	// The derived table's columns are named by its first branch.
	first, err := b.columnsOf(alias.O, branches[0])
	if err != nil {
		return nil, true, err
	}
	for _, br := range branches[1:] {
		if br.Fields == nil {
			return nil, true, unsupported("TABLE and VALUES statements on sharded tables")
		}
		b.expandStarsIfKnown(br)
		for _, f := range br.Fields.Fields {
			if f.WildCard != nil {
				return nil, true, unsupported("SELECT * in derived tables over tables whose columns the gateway does not know")
			}
		}
		if len(br.Fields.Fields) != len(first.names) {
			return nil, true, errUnion()
		}
		for i, f := range br.Fields.Fields {
			f.AsName = ast.NewCIStr(first.names[i])
		}
	}
	// Name every outer column now: the copies' text is rendered SQL.
	expandDerivedStars(sel, alias, first.names)
	if err := keepFieldNames(sel); err != nil {
		return nil, true, err
	}
	if distinct && !readsEveryColumnOnce(sel, alias, first.names) {
		return nil, true, unsupported("reading some columns of a derived UNION DISTINCT across shards")
	}
	order, limit := sel.OrderBy, sel.Limit
	sel.OrderBy, sel.Limit = nil, nil
	out := &ast.SetOprStmt{SelectList: &ast.SetOprSelectList{}}
	for i, br := range branches {
		op := br.AfterSetOperator
		br.AfterSetOperator = nil
		ds[0].ts.Source = br
		cp, err := b.cloneNode(sel)
		if err != nil {
			return nil, true, err
		}
		c := cp.(*ast.SelectStmt)
		if i > 0 {
			c.AfterSetOperator = op
		}
		out.SelectList.Selects = append(out.SelectList.Selects, c)
	}
	if order != nil {
		for _, it := range order.Items {
			// The union's ORDER BY names its result columns.
			if c, ok := it.Expr.(*ast.ColumnNameExpr); ok && c.Name.Table.L == alias.L {
				c.Name.Table, c.Name.Schema = ast.CIStr{}, ast.CIStr{}
			}
		}
	}
	out.OrderBy, out.Limit = order, limit
	return out, true, nil
}

// expandDerivedStars replaces * and alias.* by the derived table's
// columns, qualified.
func expandDerivedStars(sel *ast.SelectStmt, alias ast.CIStr, names []string) {
	var out []*ast.SelectField
	for _, f := range sel.Fields.Fields {
		if f.WildCard == nil || (f.WildCard.Table.O != "" && f.WildCard.Table.L != alias.L) {
			out = append(out, f)
			continue
		}
		for _, n := range names {
			out = append(out, &ast.SelectField{Expr: &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: alias, Name: ast.NewCIStr(n)}}})
		}
	}
	sel.Fields.Fields = out
}

// readsEveryColumnOnce reports whether sel's select list is the derived
// table's columns, each once, in order (so duplicates are the same rows).
func readsEveryColumnOnce(sel *ast.SelectStmt, alias ast.CIStr, names []string) bool {
	fs := sel.Fields.Fields
	if len(fs) != len(names) {
		return false
	}
	for i, f := range fs {
		c, ok := f.Expr.(*ast.ColumnNameExpr)
		if !ok || (c.Name.Table.O != "" && c.Name.Table.L != alias.L) || c.Name.Name.L != ast.NewCIStr(names[i]).L {
			return false
		}
	}
	return true
}
