package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/sqlerror"
)

// substituteDerived replaces sel's references to the columns of a derived
// table by the expressions that define them, names the select fields
// reading them as MySQL does (by the derived column), and expands * and
// alias.*. sole says the derived table is sel's only source, so
// unqualified names are its columns.
func (b *builder) substituteDerived(sel *ast.SelectStmt, cols *derivedColumns, sole bool) error {
	s := &substituter{b: b, cols: cols, sole: sole, uses: make([]int, len(cols.names))}
	if !sole {
		others, err := b.otherSourceColumns(sel, cols.alias)
		if err != nil {
			return err
		}
		s.others = others
	}
	if sel.Fields != nil {
		for _, f := range sel.Fields.Fields {
			if f.WildCard != nil {
				continue
			}
			if c, ok := f.Expr.(*ast.ColumnNameExpr); ok && f.AsName.O == "" && s.refers(c.Name) >= 0 {
				f.AsName = c.Name.Name
			}
			n, _ := f.Expr.Accept(s)
			f.Expr = unparen(n.(ast.ExprNode))
		}
		s.aliases = map[string]bool{}
		for _, f := range sel.Fields.Fields {
			if f.AsName.O != "" {
				s.aliases[f.AsName.L] = true
			}
		}
	}
	if sel.From != nil && sel.From.TableRefs != nil {
		sel.From.TableRefs.Accept(s)
	}
	if sel.Where != nil {
		n, _ := sel.Where.Accept(s)
		sel.Where = n.(ast.ExprNode)
	}
	// GROUP BY, HAVING and ORDER BY may name select aliases, which win.
	s.skipAliases = true
	if sel.GroupBy != nil {
		sel.GroupBy.Accept(s)
	}
	if sel.Having != nil {
		sel.Having.Accept(s)
	}
	if sel.OrderBy != nil {
		sel.OrderBy.Accept(s)
	}
	if s.err != nil {
		return s.err
	}
	return s.expandStars(sel)
}

// otherSourceColumns lists, for an unqualified name, whether another
// source of sel has it: nil for a source whose columns are unknown.
func (b *builder) otherSourceColumns(sel *ast.SelectStmt, alias string) ([][]string, error) {
	var out [][]string
	var walk func(rs ast.ResultSetNode)
	walk = func(rs ast.ResultSetNode) {
		switch x := rs.(type) {
		case *ast.Join:
			walk(x.Left)
			if x.Right != nil {
				walk(x.Right)
			}
		case *ast.TableSource:
			switch src := x.Source.(type) {
			case *ast.Join:
				walk(src)
			case *ast.TableName:
				if strings.EqualFold(x.AsName.O, alias) {
					return
				}
				ref, err := b.resolveTable(src)
				if err != nil || ref.table == nil {
					out = append(out, nil)
					return
				}
				known, ok := ref.table.KnownColumns()
				if !ok {
					out = append(out, nil)
					return
				}
				var names []string
				for _, c := range known {
					names = append(names, c.Name)
				}
				out = append(out, names)
			case *ast.SelectStmt:
				var names []string
				for _, f := range src.Fields.Fields {
					if f.WildCard != nil {
						out = append(out, nil)
						return
					}
					names = append(names, derivedFieldName(f))
				}
				out = append(out, names)
			default:
				out = append(out, nil)
			}
		}
	}
	walk(sel.From.TableRefs)
	return out, nil
}

// substituter is the visitor of substituteDerived.
type substituter struct {
	b           *builder
	cols        *derivedColumns
	sole        bool
	others      [][]string // columns of the other sources; nil: unknown
	aliases     map[string]bool
	skipAliases bool
	subquery    int // depth inside subqueries, whose own tables come first
	uses        []int
	err         error
}

// refers returns the derived column a name reads, or -1.
func (s *substituter) refers(c *ast.ColumnName) int {
	if c.Table.O != "" {
		if c.Schema.O != "" || !strings.EqualFold(c.Table.O, s.cols.alias) {
			return -1
		}
		i := s.cols.index(c.Name.O)
		if i < 0 && s.err == nil {
			s.err = sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%s.%s' in 'field list'", c.Table.O, c.Name.O)
		}
		return i
	}
	if s.subquery > 0 || (s.skipAliases && s.aliases[c.Name.L]) {
		return -1
	}
	i := s.cols.index(c.Name.O)
	if i < 0 || s.sole {
		return i
	}
	for _, o := range s.others {
		if o == nil {
			if s.err == nil {
				s.err = unsupportedf("unqualified column '%s' in a join with a derived table across shards (qualify it with its table)", c.Name.O)
			}
			return -1
		}
		for _, n := range o {
			if strings.EqualFold(n, c.Name.O) {
				if s.err == nil {
					s.err = sqlerror.New(sqlerror.User, mysql.ER_NON_UNIQ_ERROR, "Column '%s' in field list is ambiguous", c.Name.O)
				}
				return -1
			}
		}
	}
	return i
}

// use returns a copy of derived column i's expression for one more use.
func (s *substituter) use(i int) ast.ExprNode {
	e := s.cols.exprs[i]
	if c, ok := e.(*ast.ColumnNameExpr); ok {
		return &ast.ColumnNameExpr{Name: &ast.ColumnName{Schema: c.Name.Schema, Table: c.Name.Table, Name: c.Name.Name}}
	}
	s.uses[i]++
	if s.uses[i] > 1 {
		n, err := s.b.cloneNode(e)
		if err != nil {
			if s.err == nil {
				s.err = err
			}
			return e
		}
		e = n.(ast.ExprNode)
	}
	return &ast.ParenthesesExpr{Expr: e}
}

func (s *substituter) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableSource:
		switch x.Source.(type) {
		case *ast.SelectStmt, *ast.SetOprStmt:
			return n, true // another derived table: its own scope
		}
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr:
		s.subquery++
	case *ast.ColumnNameExpr:
		return n, true
	}
	return n, false
}

func (s *substituter) Leave(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr:
		s.subquery--
	case *ast.ColumnNameExpr:
		if i := s.refers(x.Name); i >= 0 {
			return s.use(i), true
		}
	}
	return n, true
}

// expandStars replaces * and alias.* by the derived table's columns (and
// * over a join by each source's columns in FROM order).
func (s *substituter) expandStars(sel *ast.SelectStmt) error {
	if sel.Fields == nil {
		return nil
	}
	mine := func() []*ast.SelectField {
		var out []*ast.SelectField
		for i, name := range s.cols.names {
			out = append(out, &ast.SelectField{Expr: unparen(s.use(i)), AsName: ast.NewCIStr(name)})
		}
		return out
	}
	var out []*ast.SelectField
	for _, f := range sel.Fields.Fields {
		w := f.WildCard
		switch {
		case w == nil:
			out = append(out, f)
		case w.Table.O != "":
			if w.Schema.O == "" && strings.EqualFold(w.Table.O, s.cols.alias) {
				out = append(out, mine()...)
			} else {
				out = append(out, f)
			}
		case s.sole:
			out = append(out, mine()...)
		default:
			for _, name := range sourceNames(sel) {
				if strings.EqualFold(name, s.cols.alias) {
					out = append(out, mine()...)
					continue
				}
				out = append(out, &ast.SelectField{WildCard: &ast.WildCardField{Table: ast.NewCIStr(name)}})
			}
		}
	}
	sel.Fields.Fields = out
	return s.err
}

// sourceNames are the names (aliases) of sel's FROM sources, in order.
func sourceNames(sel *ast.SelectStmt) []string {
	var out []string
	var walk func(rs ast.ResultSetNode)
	walk = func(rs ast.ResultSetNode) {
		switch x := rs.(type) {
		case *ast.Join:
			walk(x.Left)
			if x.Right != nil {
				walk(x.Right)
			}
		case *ast.TableSource:
			if j, ok := x.Source.(*ast.Join); ok {
				walk(j)
				return
			}
			name := x.AsName.O
			if tn, ok := x.Source.(*ast.TableName); ok && name == "" {
				name = tn.Name.O
			}
			out = append(out, name)
		}
	}
	if sel.From != nil && sel.From.TableRefs != nil {
		walk(sel.From.TableRefs)
	}
	return out
}
