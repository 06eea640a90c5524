package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
)

// Expressions of aggregates across shards (SUM(a)/COUNT(*),
// COALESCE(SUM(x), 0), AVG(x) * 2), as Vitess evaluates them: each
// aggregate inside is pushed to the shards as a hidden column and merged
// like any other, then the gateway evaluates the expression over the
// merged values. The expression itself is still sent in its place, so the
// shards' field for it is MySQL's type for the result (DECIMAL precision
// and scale included); the gateway replaces only the value.

// planComputed plans select column col, an expression of aggregates, as
// a column computed at the gateway.
func (g *groupPlan) planComputed(col int, clause string) error {
	e := g.fields[col].Expr
	fn, err := compileIn(e, g.leaf, clause)
	if err != nil {
		return err
	}
	text, _ := restore(e)
	g.computed = append(g.computed, engine.ComputedColumn{Col: col, Expr: fn, Text: text})
	g.computedAt[col] = true
	return nil
}

// computedColumn finds an ORDER BY expression of aggregates among the
// computed select columns, or adds it as a hidden one.
func (g *groupPlan) computedColumn(e ast.ExprNode) (int, error) {
	for i := 0; i < g.visible; i++ {
		if g.computedAt[i] && sameExpr(g.fields[i].Expr, e) {
			return i, nil
		}
	}
	col := g.add(e)
	return col, g.planComputed(col, "ORDER BY")
}

// leaf maps an operand of a computed expression to its column: an
// aggregate to its (maybe hidden) merged column, anything else to a
// column that depends on the grouping keys.
func (g *groupPlan) leaf(e ast.ExprNode) (int, error) {
	if a, ok := e.(*ast.AggregateFuncExpr); ok {
		return g.aggregateColumn(a)
	}
	col, _, err := g.resolve(e, "field list")
	return col, err
}

// avgAsDivision is AVG(x) written as SUM(x) / COUNT(x), which is how MySQL
// computes the AVG an expression reads (Item_sum_avg::val_decimal divides
// with div_precision_increment); ok is false for anything else.
func avgAsDivision(a *ast.AggregateFuncExpr) (ast.ExprNode, bool) {
	if !strings.EqualFold(a.F, ast.AggFuncAvg) || a.Distinct || len(a.Args) != 1 {
		return nil, false
	}
	return &ast.BinaryOperationExpr{
		Op: opcode.Div,
		L:  &ast.AggregateFuncExpr{F: ast.AggFuncSum, Args: a.Args},
		R:  &ast.AggregateFuncExpr{F: ast.AggFuncCount, Args: a.Args},
	}, true
}

// compileScalarFunc compiles the numeric and string functions the
// evaluator computes exactly over merged aggregates (engine's
// evaluate_funcs.go): ROUND, TRUNCATE, FLOOR, CEIL, ABS, GREATEST,
// LEAST, LENGTH, CHAR_LENGTH, CONCAT, LOWER and UPPER. ok is false for
// another function. The string functions take only what has MySQL's
// string form as sent by the shards: aggregates and string literals. AVG
// is read there as its own column (compileStringForm), whose text is
// MySQL's string form of AVG: rounded to AVG's scale, as
// Item_sum_avg::val_str rounds it, where arithmetic reads it as a
// division with more digits. Not grouping columns: a group's value is one
// of its members' spellings ('carol' or 'carol ' under PAD SPACE), and
// its length or text would depend on which. LOWER and UPPER map case as
// the common collations do only for ASCII text; others are refused when
// met (engine.CaseMapExpr).
func compileScalarFunc(x *ast.FuncCallExpr, name string, sub func(ast.ExprNode) (engine.Expr, error)) (engine.Expr, bool, error) {
	arity := map[string][2]int{
		"round": {1, 2}, "truncate": {2, 2}, "floor": {1, 1}, "ceil": {1, 1}, "ceiling": {1, 1}, "abs": {1, 1},
		"greatest": {2, -1}, "least": {2, -1},
		"length": {1, 1}, "octet_length": {1, 1}, "char_length": {1, 1}, "character_length": {1, 1}, "concat": {1, -1},
		"lower": {1, 1}, "lcase": {1, 1}, "upper": {1, 1}, "ucase": {1, 1},
	}
	n, known := arity[name]
	if !known || len(x.Args) < n[0] || (n[1] > 0 && len(x.Args) > n[1]) {
		return nil, false, nil
	}
	if isStringFunc(name) {
		for _, a := range x.Args {
			if !hasStringForm(a) {
				return nil, false, nil // refused as an expression the gateway cannot compute
			}
		}
	}
	args := make([]engine.Expr, len(x.Args))
	for i, a := range x.Args {
		e, err := sub(a)
		if err != nil {
			return nil, true, err
		}
		args[i] = e
	}
	switch name {
	case "round", "truncate":
		var d engine.Expr
		if len(args) == 2 {
			d = args[1]
		}
		return engine.RoundExpr(args[0], d, name == "truncate"), true, nil
	case "floor", "ceil", "ceiling":
		return engine.FloorExpr(args[0], name != "floor"), true, nil
	case "abs":
		return engine.AbsExpr(args[0]), true, nil
	case "greatest", "least":
		return engine.ExtremumExpr(args, name == "least"), true, nil
	case "concat":
		return engine.ConcatExpr(args), true, nil
	case "lower", "lcase", "upper", "ucase":
		return engine.CaseMapExpr(args[0], name == "upper" || name == "ucase"), true, nil
	}
	return engine.LengthExpr(args[0], strings.HasPrefix(name, "char")), true, nil
}

// isStringFunc says whether compileScalarFunc computes function name
// over the string form of its arguments.
func isStringFunc(name string) bool {
	switch name {
	case "length", "octet_length", "char_length", "character_length", "concat", "lower", "lcase", "upper", "ucase":
		return true
	}
	return false
}

// takesStringForm says whether x is a string function (isStringFunc).
func takesStringForm(x *ast.FuncCallExpr) bool {
	name := x.FnName.L
	if name == "" {
		name = strings.ToLower(x.FnName.O)
	}
	return isStringFunc(name)
}

// compileStringForm compiles an argument of a string function: an AVG is
// its own merged column (its text rounded to AVG's scale), not the
// division arithmetic reads.
func (c *exprCompiler) compileStringForm(e ast.ExprNode) (engine.Expr, error) {
	if a, ok := unparen(e).(*ast.AggregateFuncExpr); ok && strings.EqualFold(a.F, ast.AggFuncAvg) {
		i, err := c.col(a)
		if err != nil {
			return nil, err
		}
		return engine.ColumnExpr(i), nil
	}
	return c.compile(e)
}

// hasStringForm says whether the value of e reaches the gateway as MySQL's
// string form of it.
func hasStringForm(e ast.ExprNode) bool {
	switch x := unparen(e).(type) {
	case *rowColumn:
		return true // a joined row's value, as its shard sent it
	case *ast.AggregateFuncExpr:
		return true
	case *ast.BinaryOperationExpr:
		// + - * / of exact numbers: the evaluator knows their type's
		// decimals (a floating-point operand is refused when met).
		switch x.Op {
		case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div:
			return isNumberForm(x.L) && isNumberForm(x.R)
		}
	case *ast.FuncCallExpr:
		// A string the gateway computes from string forms (CONCAT of AVG).
		switch x.FnName.L {
		case "concat", "lower", "lcase", "upper", "ucase":
			for _, a := range x.Args {
				if !hasStringForm(a) {
					return false
				}
			}
			return true
		}
	case *valueExpr:
		_, ok := x.val.(string)
		return ok
	}
	return false
}

// isNumberForm says whether e is an operand of arithmetic whose string
// form the evaluator knows: an aggregate, a numeric literal or
// parameter, or such arithmetic.
func isNumberForm(e ast.ExprNode) bool {
	switch x := unparen(e).(type) {
	case *ast.AggregateFuncExpr:
		return !strings.EqualFold(x.F, ast.AggFuncGroupConcat)
	case *valueExpr:
		switch x.val.(type) {
		case int64, uint64, decimalLit:
			return true
		}
		return false
	case *paramMarker:
		return true
	case *ast.UnaryOperationExpr:
		return x.Op == opcode.Minus && isNumberForm(x.V)
	case *ast.BinaryOperationExpr:
		return hasStringForm(x)
	}
	return false
}
