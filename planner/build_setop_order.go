package planner

import (
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// The ORDER BY of a whole set operation names the result's columns (by
// the first SELECT's names or by position). An expression over them
// (`order by id + 1`, `order by -x`) is computed by every SELECT over its
// own columns at that position, as a hidden column with its weight_string,
// so the shards give it MySQL's type and collation; the gateway orders by
// it.

// setOrderPlan is the resolved ORDER BY of the top level.
type setOrderPlan struct {
	keys  []engine.OrderKey
	exprs []setOrderExpr
}

// setOrderExpr is an ORDER BY expression pushed to every SELECT.
type setOrderExpr struct {
	expr     ast.ExprNode // over the first SELECT's result names
	weighted bool
}

// setOrder resolves the top level's ORDER BY, adding the hidden columns
// its expressions need to lay.
func (b *builder) setOrder(top *setList, leaves []*ast.SelectStmt, lay *setLayout) (*setOrderPlan, error) {
	out := &setOrderPlan{}
	if top.orderBy == nil {
		return out, nil
	}
	first := leaves[0].Fields.Fields[:lay.visible]
	for _, item := range top.orderBy.Items {
		if col := resultColumn(first, item.Expr, lay.visible); col >= 0 {
			out.keys = append(out.keys, engine.OrderKey{Col: col, Weight: lay.weights[col], Desc: item.Desc})
			continue
		}
		if err := checkSetOrderExpr(item.Expr, first); err != nil {
			return nil, err
		}
		e := setOrderExpr{expr: item.Expr}
		k := engine.OrderKey{Col: lay.visible + lay.hidden, Weight: engine.NoWeight, Desc: item.Desc}
		lay.hidden++
		// A number needs no weight; the first SELECT's expression decides.
		sub, err := b.overSelect(item.Expr, first, first)
		if err != nil {
			return nil, err
		}
		if needsWeight(sub) && !findNode(sub, isAggregate) {
			e.weighted = true
			k.Weight = lay.visible + lay.hidden
			lay.hidden++
		}
		out.exprs = append(out.exprs, e)
		out.keys = append(out.keys, k)
	}
	return out, nil
}

// appendOrderColumns adds each ORDER BY expression, written over the
// SELECT's own columns, to every SELECT after its weight_strings.
func (b *builder) appendOrderColumns(leaves []*ast.SelectStmt, order *setOrderPlan) error {
	if len(order.exprs) == 0 {
		return nil
	}
	first := leaves[0].Fields.Fields
	for _, sel := range leaves {
		for _, e := range order.exprs {
			sub, err := b.overSelect(e.expr, first, sel.Fields.Fields)
			if err != nil {
				return err
			}
			sel.Fields.Fields = append(sel.Fields.Fields, &ast.SelectField{Expr: sub})
			if e.weighted {
				w, err := cloneExpr(b, sub)
				if err != nil {
					return err
				}
				sel.Fields.Fields = append(sel.Fields.Fields, &ast.SelectField{Expr: weightOf(w)})
			}
		}
	}
	return nil
}

// setOrderKeys resolves the ORDER BY of a nested level, which may name
// result columns only.
func setOrderKeys(l *setList, lay *setLayout) ([]engine.OrderKey, error) {
	first := l.leaves(nil)[0].Fields.Fields[:lay.visible]
	var keys []engine.OrderKey
	for _, item := range l.orderBy.Items {
		col := resultColumn(first, item.Expr, lay.visible)
		if col < 0 {
			s, _ := restore(item.Expr)
			return nil, unsupportedf("ORDER BY %s in a parenthesised set operation across shards (use a column of the result)", s)
		}
		keys = append(keys, engine.OrderKey{Col: col, Weight: lay.weights[col], Desc: item.Desc})
	}
	return keys, nil
}

// resultColumn is the result column an ORDER BY item names (a position or
// a name of the first SELECT), or -1.
func resultColumn(first []*ast.SelectField, e ast.ExprNode, visible int) int {
	switch x := e.(type) {
	case *ast.PositionExpr:
		if x.P == nil && x.N >= 1 && x.N <= visible {
			return x.N - 1
		}
	case *ast.ColumnNameExpr:
		return resultName(first, x.Name)
	}
	return -1
}

func resultName(first []*ast.SelectField, name *ast.ColumnName) int {
	for i, f := range first {
		if fieldName(f) == name.Name.O || f.AsName.L == name.Name.L {
			return i
		}
		if fc, ok := f.Expr.(*ast.ColumnNameExpr); ok && fc.Name.Name.L == name.Name.L && f.AsName.O == "" {
			return i
		}
	}
	return -1
}

// checkSetOrderExpr gives MySQL's errors for an ORDER BY expression of a
// set operation, and refuses what the gateway cannot push to each SELECT.
func checkSetOrderExpr(e ast.ExprNode, first []*ast.SelectField) error {
	if _, ok := e.(ast.ValueExpr); ok {
		return unsupported("ORDER BY a constant across shards")
	}
	if _, ok := e.(*ast.PositionExpr); ok {
		s, _ := restore(e)
		return sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%s' in 'ORDER BY'", s)
	}
	if findNode(e, isAggregate) {
		return sqlerror.New(sqlerror.User, erAggregateOrderForUnion, "Expression #1 of ORDER BY contains aggregate function and applies to a UNION")
	}
	if findNode(e, isWindowFunc) || hasSubquery(e) || findNode(e, isParamOrVariable) {
		s, _ := restore(e)
		return unsupportedf("ORDER BY %s on a UNION across shards (use a column of the result)", s)
	}
	var err error
	findNode(e, func(n ast.Node) bool {
		c, ok := n.(*ast.ColumnNameExpr)
		if !ok || err != nil {
			return false
		}
		if c.Name.Table.O != "" {
			err = sqlerror.New(sqlerror.User, mysql.ER_TABLENAME_NOT_ALLOWED_HERE, "Table '%s' from one of the SELECTs cannot be used in ORDER BY", c.Name.Table.O)
		} else if resultName(first, c.Name) < 0 {
			err = sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%s' in 'ORDER BY'", c.Name.Name.O)
		}
		return false
	})
	return err
}

// erAggregateOrderForUnion is ER_AGGREGATE_ORDER_FOR_UNION (3028).
const erAggregateOrderForUnion = 3028

func isParamOrVariable(n ast.Node) bool {
	switch n.(type) {
	case ast.ParamMarkerExpr, *ast.VariableExpr:
		return true
	}
	return false
}

// overSelect writes e (over the result names of first) over the columns
// of one SELECT: each name becomes a copy of that SELECT's expression at
// the name's position.
func (b *builder) overSelect(e ast.ExprNode, first, fields []*ast.SelectField) (ast.ExprNode, error) {
	out, err := cloneExpr(b, e)
	if err != nil {
		return nil, err
	}
	r := &resultRewriter{b: b, first: first, fields: fields}
	n, _ := out.Accept(r)
	if r.err != nil {
		return nil, r.err
	}
	return n.(ast.ExprNode), nil
}

type resultRewriter struct {
	b             *builder
	first, fields []*ast.SelectField
	err           error
}

func (r *resultRewriter) Enter(n ast.Node) (ast.Node, bool) {
	_, ok := n.(*ast.ColumnNameExpr)
	return n, ok
}

func (r *resultRewriter) Leave(n ast.Node) (ast.Node, bool) {
	c, ok := n.(*ast.ColumnNameExpr)
	if !ok {
		return n, true
	}
	i := resultName(r.first, c.Name)
	if i < 0 || i >= len(r.fields) {
		r.err = errInternal("ORDER BY column %s not in the result", c.Name.Name.O)
		return n, false
	}
	e, err := cloneExpr(r.b, r.fields[i].Expr)
	if err != nil {
		r.err = err
		return n, false
	}
	switch e.(type) {
	case *ast.ColumnNameExpr, ast.ValueExpr:
		return e, true
	}
	return &ast.ParenthesesExpr{Expr: e}, true
}
