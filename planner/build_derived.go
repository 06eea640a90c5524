package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// Derived tables and non-recursive CTEs that are not co-located are merged
// into the query that reads them, as MySQL's optimizer does (derived_merge)
// and Vitess's planner does when a derived table's route merges with its
// outer query: the outer query's references to a derived column are
// replaced by the expression the derived table computes it with, so the
// shards (and the existing scatter, aggregate, join and sort plans) compute
// exactly what MySQL would, with MySQL's types and collations.
//
//   - A plain derived table (a projection and a WHERE over one table) is
//     replaced by its table: `select x.a from (select id as a from user
//     where age > 3) x where x.a < 10` is `select x.id as a from user x
//     where x.id < 10 and x.age > 3`. It may be joined with anything.
//   - A grouped, aggregated, DISTINCT or LIMITed derived table read alone
//     takes the outer query in: its projection replaces the select list,
//     its WHERE becomes the derived table's WHERE (conditions on grouping
//     columns) or HAVING, its ORDER BY and LIMIT are the derived table's.
//
// What cannot be merged exactly (an outer GROUP BY over a grouped derived
// table, a grouped derived table in a join, ...) stays a 1235.

// buildDerived plans a SELECT reading derived tables or CTEs that are not
// co-located; ok is false when it reads none.
func (b *builder) buildDerived(sel *ast.SelectStmt) (engine.Primitive, bool, error) {
	if sel.With == nil && !hasDerivedTable(sel) {
		return nil, false, nil
	}
	if err := b.inlineCTEs(&sel.With, sel); err != nil {
		return nil, true, err
	}
	if p, ok, err := b.derivedRows(sel); ok || err != nil { // build_derived_rows.go
		b.rewritten = true
		return p, true, err
	}
	if u, ok, err := b.derivedUnion(sel); ok || err != nil {
		if err != nil {
			return nil, true, err
		}
		b.rewritten = true
		p, err := b.buildSelect(u)
		return p, true, err
	}
	if err := b.mergeDerivedTables(sel); err != nil {
		return nil, true, err
	}
	b.rewritten = true
	p, err := b.buildSelect(sel)
	return p, true, err
}

// hasDerivedTable reports whether sel's FROM reads a derived table.
func hasDerivedTable(sel *ast.SelectStmt) bool {
	return len(derivedSources(sel)) > 0
}

// derivedSource is one derived table of a FROM clause; nullSide is the
// join of which it is the side a LEFT or RIGHT JOIN fills with NULLs.
type derivedSource struct {
	ts       *ast.TableSource
	nullSide *ast.Join
	deep     bool // inside a null-filled side, below its join
}

// derivedSources lists the derived tables of sel's FROM, in order.
func derivedSources(sel *ast.SelectStmt) []derivedSource {
	if sel.From == nil || sel.From.TableRefs == nil {
		return nil
	}
	var out []derivedSource
	var walk func(rs ast.ResultSetNode, null *ast.Join, deep bool)
	walk = func(rs ast.ResultSetNode, null *ast.Join, deep bool) {
		switch x := rs.(type) {
		case *ast.Join:
			ln, rn := null, null
			ld, rd := null != nil, null != nil
			if x.Tp == ast.LeftJoin {
				rn, rd = x, deep || null != nil
			}
			if x.Tp == ast.RightJoin {
				ln, ld = x, deep || null != nil
			}
			walk(x.Left, ln, ld)
			if x.Right != nil {
				walk(x.Right, rn, rd)
			}
		case *ast.TableSource:
			switch x.Source.(type) {
			case *ast.SelectStmt, *ast.SetOprStmt:
				out = append(out, derivedSource{ts: x, nullSide: null, deep: deep})
			case *ast.Join:
				walk(x.Source, null, deep)
			}
		}
	}
	walk(sel.From.TableRefs, nil, false)
	return out
}

// sourceCount is the number of tables and derived tables of sel's FROM.
func sourceCount(sel *ast.SelectStmt) int { return len(sourceNames(sel)) }

// derivedColumns are the names and defining expressions of a derived
// table's columns, in order.
type derivedColumns struct {
	alias string
	names []string
	exprs []ast.ExprNode
}

func (d *derivedColumns) index(name string) int {
	for i, n := range d.names {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// columnsOf reads a derived table's columns from its SELECT, expanding
// * where the table's columns are known.
func (b *builder) columnsOf(alias string, inner *ast.SelectStmt) (*derivedColumns, error) {
	if inner.Fields == nil {
		return nil, unsupported("TABLE and VALUES statements on sharded tables")
	}
	b.expandStarsIfKnown(inner)
	d := &derivedColumns{alias: alias}
	for _, f := range inner.Fields.Fields {
		if f.WildCard != nil {
			return nil, unsupported("SELECT * in derived tables over tables whose columns the gateway does not know")
		}
		name := derivedFieldName(f)
		if d.index(name) >= 0 {
			return nil, sqlerror.New(sqlerror.User, mysql.ER_DUP_FIELDNAME, "Duplicate column name '%s'", name)
		}
		d.names = append(d.names, name)
		d.exprs = append(d.exprs, f.Expr)
	}
	return d, nil
}

// derivedFieldName is the name MySQL gives a derived table's column: its
// alias, the column it reads, or the text of its expression.
func derivedFieldName(f *ast.SelectField) string {
	if f.AsName.O != "" {
		return f.AsName.O
	}
	if c, ok := f.Expr.(*ast.ColumnNameExpr); ok {
		return c.Name.Name.O
	}
	if t := strings.TrimSpace(f.Text()); t != "" {
		return t
	}
	s, _ := restore(f.Expr)
	return s
}

// mergeDerivedTables merges every derived table of sel's FROM into sel.
func (b *builder) mergeDerivedTables(sel *ast.SelectStmt) error {
	for _, ds := range derivedSources(sel) {
		inner, ok := ds.ts.Source.(*ast.SelectStmt)
		if !ok {
			return unsupported("UNION inside a derived table joined with other tables across shards")
		}
		if ds.ts.AsName.O == "" {
			return errDerivedAlias()
		}
		if err := b.inlineCTEs(&inner.With, inner); err != nil {
			return err
		}
		if hasDerivedTable(inner) {
			if err := b.mergeDerivedTables(inner); err != nil {
				return err
			}
		}
		cols, err := b.columnsOf(ds.ts.AsName.O, inner)
		if err != nil {
			return err
		}
		switch {
		case plainDerived(inner):
			if err := b.mergePlain(sel, ds, inner, cols); err != nil {
				return err
			}
		case sourceCount(sel) == 1:
			return b.mergeIntoGrouped(sel, inner, cols)
		default:
			return unsupported("a grouped, DISTINCT or LIMITed derived table joined with other tables across shards")
		}
	}
	return nil
}

// plainDerived reports whether a derived table is a projection and WHERE
// over one table: nothing that would change if its rows were read by the
// outer query directly.
func plainDerived(inner *ast.SelectStmt) bool {
	if inner.Kind != ast.SelectStmtKindSelect || inner.GroupBy != nil || inner.Having != nil || inner.Distinct ||
		inner.Limit != nil || inner.With != nil || inner.SelectIntoOpt != nil || len(inner.WindowSpecs) > 0 ||
		(inner.SelectStmtOpts != nil && (inner.SelectStmtOpts.Distinct || inner.SelectStmtOpts.CalcFoundRows)) ||
		findOwn(inner.Fields, isAggregate) || (inner.OrderBy != nil && findOwn(inner.OrderBy, isAggregate)) ||
		findNode(inner, isWindowFunc) || hasSubquery(inner) {
		return false
	}
	if inner.From == nil || inner.From.TableRefs == nil || inner.From.TableRefs.Right != nil {
		return false
	}
	ts, ok := inner.From.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return false
	}
	_, ok = ts.Source.(*ast.TableName)
	return ok
}

// mergePlain replaces a plain derived table by its table, renamed to the
// derived table's alias.
func (b *builder) mergePlain(sel *ast.SelectStmt, ds derivedSource, inner *ast.SelectStmt, cols *derivedColumns) error {
	its := inner.From.TableRefs.Left.(*ast.TableSource)
	tn := its.Source.(*ast.TableName)
	innerName := its.AsName.O
	if innerName == "" {
		innerName = tn.Name.O
	}
	alias := ast.NewCIStr(cols.alias)
	requalify := &qualifier{from: innerName, to: alias}
	for i, e := range cols.exprs {
		n, _ := e.Accept(requalify)
		cols.exprs[i] = n.(ast.ExprNode)
	}
	var where ast.ExprNode
	if inner.Where != nil {
		n, _ := inner.Where.Accept(requalify)
		where = n.(ast.ExprNode)
	}
	if ds.nullSide != nil {
		if ds.deep {
			return unsupported("a derived table nested in the NULL-filled side of an outer join across shards")
		}
		for _, e := range cols.exprs {
			if _, ok := e.(*ast.ColumnNameExpr); !ok {
				// An outer join's missing row must read NULL, not the
				// expression computed over NULL columns.
				return unsupported("a derived table computing expressions on the NULL-filled side of an outer join across shards")
			}
		}
	}
	ds.ts.Source, ds.ts.AsName = tn, alias
	if err := b.substituteDerived(sel, cols, sourceCount(sel) == 1); err != nil {
		return err
	}
	if where != nil {
		if ds.nullSide != nil {
			on := ds.nullSide.On
			if on == nil {
				ds.nullSide.On = &ast.OnCondition{Expr: where}
			} else {
				on.Expr = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: on.Expr}, R: &ast.ParenthesesExpr{Expr: where}}
			}
		} else if sel.Where == nil {
			sel.Where = where
		} else {
			sel.Where = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: sel.Where}, R: &ast.ParenthesesExpr{Expr: where}}
		}
	}
	return nil
}

// qualifier makes a derived table's column references name the derived
// table's alias: unqualified ones and those naming its one table.
// Subqueries keep their own scope.
type qualifier struct {
	from string
	to   ast.CIStr
}

func (q *qualifier) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SubqueryExpr:
		return n, true
	case *ast.ColumnName:
		if x.Table.O == "" || strings.EqualFold(x.Table.O, q.from) {
			x.Table, x.Schema = q.to, ast.CIStr{}
		}
	}
	return n, false
}

func (q *qualifier) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// errDerivedAlias is MySQL's 1248 for a derived table without an alias.
func errDerivedAlias() error {
	return sqlerror.New(sqlerror.User, mysql.ER_DERIVED_MUST_HAVE_ALIAS, "Every derived table must have its own alias")
}

// derivedBackup is a copy of a statement reading derived tables or CTEs,
// taken before the co-located planner changes it, so the statement can
// still be merged if that planner refuses it; nil for other statements.
// The copy's select fields keep the names the client's text gives them.
func (b *builder) derivedBackup(sel *ast.SelectStmt) (*ast.SelectStmt, error) {
	if sel.With == nil && !hasDerivedTable(sel) {
		return nil, nil
	}
	cp, err := b.cloneNode(sel)
	if err != nil {
		return nil, err
	}
	orig, copied := &selectLister{}, &selectLister{}
	sel.Accept(orig)
	cp.Accept(copied)
	if len(orig.sels) != len(copied.sels) {
		return nil, errInternal("copy of a statement has %d SELECTs, not %d", len(copied.sels), len(orig.sels))
	}
	for i, o := range orig.sels {
		c := copied.sels[i]
		if o.Fields == nil || c.Fields == nil || len(o.Fields.Fields) != len(c.Fields.Fields) {
			continue
		}
		for j, f := range o.Fields.Fields {
			switch f.Expr.(type) {
			case nil, *ast.ColumnNameExpr, ast.ValueExpr:
				continue
			}
			if t := strings.TrimSpace(f.Text()); t != "" && f.AsName.O == "" {
				c.Fields.Fields[j].AsName = ast.NewCIStr(t)
			}
		}
	}
	return cp.(*ast.SelectStmt), nil
}

// selectLister collects a statement's SELECTs in visiting order.
type selectLister struct{ sels []*ast.SelectStmt }

func (v *selectLister) Enter(n ast.Node) (ast.Node, bool) {
	if s, ok := n.(*ast.SelectStmt); ok {
		v.sels = append(v.sels, s)
	}
	return n, false
}

func (v *selectLister) Leave(n ast.Node) (ast.Node, bool) { return n, true }
