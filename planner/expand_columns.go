package planner

import (
	"reflect"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/sqlerror"
)

// Where the planner needs to know which table a column belongs to or what
// * stands for, the known columns (columns.go) answer: in a join
// evaluated at the gateway, unqualified columns are qualified with the
// one table that has them and * / t.* become the tables' columns (so
// ORDER BY a position works); in a UNION across shards * becomes its
// columns. Without known columns for every table the statement is left
// as it is, and the planner's own rules (refusals included) apply.

// columnSource is one table of a FROM clause with its known columns.
type columnSource struct {
	name string // what qualifies its columns: the alias or the table name
	cols []string
}

// knownSources lists the tables of sel's FROM when every one is a plain
// table with known columns; ok is false otherwise.
func (b *builder) knownSources(sel *ast.SelectStmt) ([]columnSource, bool) {
	if sel.From == nil || sel.From.TableRefs == nil {
		return nil, false
	}
	var out []columnSource
	var walk func(rs ast.ResultSetNode) bool
	walk = func(rs ast.ResultSetNode) bool {
		switch x := rs.(type) {
		case nil:
			return true
		case *ast.Join:
			return walk(x.Left) && walk(x.Right)
		case *ast.TableSource:
			tn, ok := x.Source.(*ast.TableName)
			if !ok {
				return false
			}
			ref, err := b.resolveTable(tn)
			if err != nil || ref.table == nil {
				return false
			}
			cols, ok := ref.table.KnownColumns()
			if !ok {
				return false
			}
			s := columnSource{name: x.AsName.O}
			if s.name == "" {
				s.name = tn.Name.O
			}
			for _, c := range cols {
				s.cols = append(s.cols, c.Name)
			}
			out = append(out, s)
			return true
		}
		return false
	}
	if !walk(sel.From.TableRefs) || len(out) == 0 {
		return nil, false
	}
	return out, true
}

// resolveJoinColumns qualifies sel's unqualified columns and expands its
// stars, when every table's columns are known. A column several tables
// have is MySQL's 1052.
func (b *builder) resolveJoinColumns(sel *ast.SelectStmt) error {
	srcs, ok := b.knownSources(sel)
	if !ok {
		return nil
	}
	expandStars(sel, srcs)
	q := &columnQualifier{srcs: srcs, aliases: map[string]bool{}}
	for _, f := range sel.Fields.Fields {
		if f.AsName.O != "" {
			q.aliases[strings.ToLower(f.AsName.O)] = true
		}
	}
	clauses := []struct {
		where string
		node  ast.Node
	}{{"field list", sel.Fields}, {"on clause", sel.From}, {"where clause", sel.Where}, {"group statement", sel.GroupBy}, {"having clause", sel.Having}, {"order clause", sel.OrderBy}}
	for _, c := range clauses {
		if c.node == nil || reflect.ValueOf(c.node).IsNil() {
			continue
		}
		c.node.Accept(q)
		if q.ambiguous != "" {
			return sqlerror.New(sqlerror.User, mysql.ER_NON_UNIQ_ERROR, "Column '%s' in %s is ambiguous", q.ambiguous, c.where)
		}
	}
	return nil
}

// expandStarsIfKnown expands the stars of a UNION branch when its tables'
// columns are known.
func (b *builder) expandStarsIfKnown(sel *ast.SelectStmt) {
	if srcs, ok := b.knownSources(sel); ok {
		expandStars(sel, srcs)
	}
}

// expandStars replaces * and t.* by the qualified columns they stand
// for, in table order; a t.* naming no source is left for the planner's
// own error.
func expandStars(sel *ast.SelectStmt, srcs []columnSource) {
	if sel.Fields == nil {
		return
	}
	var out []*ast.SelectField
	for _, f := range sel.Fields.Fields {
		if f.WildCard == nil {
			out = append(out, f)
			continue
		}
		var expanded []*ast.SelectField
		for _, s := range srcs {
			if f.WildCard.Table.O != "" && !strings.EqualFold(f.WildCard.Table.O, s.name) {
				continue
			}
			for _, c := range s.cols {
				expanded = append(expanded, &ast.SelectField{Expr: &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: ast.NewCIStr(s.name), Name: ast.NewCIStr(c)}}})
			}
		}
		if len(expanded) == 0 {
			out = append(out, f)
			continue
		}
		out = append(out, expanded...)
	}
	sel.Fields.Fields = out
}

// columnQualifier gives an unqualified column the name of the one source
// that has it. Subqueries keep their own scope; names that are select
// aliases (ORDER BY total) and names several sources have (MySQL's 1052)
// are left alone.
type columnQualifier struct {
	srcs      []columnSource
	aliases   map[string]bool
	ambiguous string // the first column several sources have
}

func (q *columnQualifier) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SubqueryExpr:
		return n, true
	case *ast.ColumnName:
		if x.Table.O != "" || q.aliases[x.Name.L] {
			break
		}
		owner := ""
		for _, s := range q.srcs {
			for _, c := range s.cols {
				if strings.EqualFold(c, x.Name.O) {
					if owner != "" {
						if q.ambiguous == "" {
							q.ambiguous = x.Name.O
						}
						return n, true
					}
					owner = s.name
				}
			}
		}
		if owner != "" {
			x.Table = ast.NewCIStr(owner)
		}
	}
	return n, false
}

func (q *columnQualifier) Leave(n ast.Node) (ast.Node, bool) { return n, true }
