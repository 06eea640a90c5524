package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/sqlerror"
)

// JOIN ... USING and NATURAL JOIN across shards, when the gateway knows
// every table's columns (schema tracking): each becomes ON equalities of
// the common columns, and MySQL's column coalescing is applied where it
// shows: SELECT * lists the common columns once, first (in the order of
// the left operand), then the left operand's other columns, then the
// right table's; an unqualified common column is the coalesced one. For
// inner and LEFT joins the coalesced column is the left table's
// (COALESCE(l.c, r.c) is l.c whenever the row exists on the left). RIGHT
// JOIN with USING or NATURAL stays refused.

// usingColumn is one column of the FROM clause as * would list it.
type usingColumn struct{ table, col string }

// rewriteUsing rewrites the USING and NATURAL joins of sel's FROM; it
// leaves sel alone when a table's columns are unknown or the join is not
// left-deep, for the planner's own refusal.
func (b *builder) rewriteUsing(sel *ast.SelectStmt) error {
	if sel.From == nil || sel.From.TableRefs == nil || !findNode(sel.From, isUsingJoin) {
		return nil
	}
	srcs, ok := b.knownSources(sel)
	if !ok {
		return nil
	}
	colsOf := map[string][]string{}
	for _, s := range srcs {
		colsOf[strings.ToLower(s.name)] = s.cols
	}
	coalesced := map[string]string{} // unqualified common column -> table
	var visible []usingColumn
	var walk func(n ast.ResultSetNode) (bool, error)
	walk = func(n ast.ResultSetNode) (bool, error) {
		switch x := n.(type) {
		case *ast.TableSource:
			name := x.AsName.O
			if name == "" {
				tn, ok := x.Source.(*ast.TableName)
				if !ok {
					return false, nil
				}
				name = tn.Name.O
			}
			for _, c := range colsOf[strings.ToLower(name)] {
				visible = append(visible, usingColumn{name, c})
			}
			return true, nil
		case *ast.Join:
			if ok, err := walk(x.Left); !ok || err != nil {
				return ok, err
			}
			if x.Right == nil {
				return true, nil
			}
			if !x.NaturalJoin && len(x.Using) == 0 {
				return walk(x.Right)
			}
			rts, ok := x.Right.(*ast.TableSource)
			if !ok || x.Tp == ast.RightJoin {
				return false, nil
			}
			left := visible
			visible = nil
			if ok, err := walk(rts); !ok || err != nil {
				return ok, err
			}
			right := visible
			var common []string
			if x.NaturalJoin {
				for _, l := range left {
					for _, r := range right {
						if strings.EqualFold(l.col, r.col) && !containsFold(common, l.col) {
							common = append(common, l.col)
						}
					}
				}
			} else {
				for _, u := range x.Using {
					common = append(common, u.Name.O)
				}
			}
			var on []ast.ExprNode
			var first, rest []usingColumn
			for _, c := range common {
				li, ri := indexOfCol(left, c), indexOfCol(right, c)
				if li < 0 || ri < 0 {
					return false, sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%s' in 'from clause'", c)
				}
				on = append(on, &ast.BinaryOperationExpr{Op: opcode.EQ,
					L: qualified(left[li].table, left[li].col), R: qualified(right[ri].table, right[ri].col)})
				coalesced[strings.ToLower(c)] = left[li].table
			}
			// The common columns in the left operand's order.
			for _, l := range left {
				if containsFold(common, l.col) && !containsCol(first, l.col) {
					first = append(first, l)
				}
			}
			for _, l := range left {
				if !containsCol(first, l.col) || !sameColumn(first[indexOfCol(first, l.col)], l) {
					rest = append(rest, l)
				}
			}
			for _, r := range right {
				if !containsFold(common, r.col) {
					rest = append(rest, r)
				}
			}
			visible = append(first, rest...)
			if x.On != nil {
				on = append(on, x.On.Expr)
			}
			x.On = &ast.OnCondition{Expr: andAll(on)}
			x.Using, x.NaturalJoin = nil, false
			return true, nil
		}
		return false, nil
	}
	ok, err := walk(sel.From.TableRefs)
	if err != nil || !ok {
		return err
	}
	if sel.Fields != nil {
		var out []*ast.SelectField
		for _, f := range sel.Fields.Fields {
			if f.WildCard == nil || f.WildCard.Table.O != "" {
				out = append(out, f)
				continue
			}
			for _, c := range visible {
				out = append(out, &ast.SelectField{Expr: qualified(c.table, c.col)})
			}
		}
		sel.Fields.Fields = out
	}
	q := &coalescedQualifier{cols: coalesced}
	for _, n := range []ast.Node{sel.Fields, sel.Where, sel.GroupBy, sel.Having, sel.OrderBy} {
		if n != nil && !isNilClause(n) {
			n.Accept(q)
		}
	}
	return nil
}

func isUsingJoin(n ast.Node) bool {
	j, ok := n.(*ast.Join)
	return ok && (j.NaturalJoin || len(j.Using) > 0)
}

func isNilClause(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.FieldList:
		return x == nil
	case *ast.GroupByClause:
		return x == nil
	case *ast.HavingClause:
		return x == nil
	case *ast.OrderByClause:
		return x == nil
	}
	return false
}

func qualified(table, col string) *ast.ColumnNameExpr {
	return &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: ast.NewCIStr(table), Name: ast.NewCIStr(col)}}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func indexOfCol(cols []usingColumn, c string) int {
	for i, x := range cols {
		if strings.EqualFold(x.col, c) {
			return i
		}
	}
	return -1
}

func containsCol(cols []usingColumn, c string) bool { return indexOfCol(cols, c) >= 0 }

func sameColumn(a, b usingColumn) bool {
	return strings.EqualFold(a.table, b.table) && strings.EqualFold(a.col, b.col)
}

// coalescedQualifier qualifies unqualified common columns of USING and
// NATURAL joins with the table whose column stands for them.
type coalescedQualifier struct{ cols map[string]string }

func (q *coalescedQualifier) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SubqueryExpr:
		return n, true
	case *ast.ColumnName:
		if t, ok := q.cols[strings.ToLower(x.Name.O)]; ok && x.Table.O == "" {
			x.Table = ast.NewCIStr(t)
		}
	}
	return n, false
}

func (q *coalescedQualifier) Leave(n ast.Node) (ast.Node, bool) { return n, true }
