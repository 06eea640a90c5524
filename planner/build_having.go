package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardgate/shardgate/engine"
)

// compileExpr turns an expression into an engine.Expr; col maps the leaves the
// gateway cannot compute (columns, aggregate functions) to columns of the
// merged row. What the evaluator cannot compute is refused here, at plan
// time (1235).
func compileExpr(e ast.ExprNode, col func(ast.ExprNode) (int, error)) (engine.Expr, error) {
	return compileIn(e, col, "HAVING")
}

// compileIn is compileExpr for an expression of clause (named in a
// refusal).
func compileIn(e ast.ExprNode, col func(ast.ExprNode) (int, error), clause string) (engine.Expr, error) {
	return (&exprCompiler{col: col, clause: clause}).compile(e)
}

// compileWeighed is compileIn where strings may be compared: weight maps
// a leaf to its weight_string column (engine.NoWeight if it has none),
// and col also pushes the hidden columns a comparison with a string
// literal needs (evaluate_strings.go in engine). Parts of HAVING without
// aggregates that the evaluator cannot compute (LENGTH(name), name LIKE
// 'a%') are pushed as hidden columns too: their value is the group's, as
// MySQL reads it from any row of the group.
// underlying maps a column name (an alias) to the expression it stands
// for, which is what the shards can weigh.
func compileWeighed(e ast.ExprNode, col, weight func(ast.ExprNode) (int, error), underlying func(ast.ExprNode) ast.ExprNode, clause string) (engine.Expr, error) {
	return (&exprCompiler{col: col, weight: weight, underlying: underlying, clause: clause}).compile(e)
}

// exprCompiler compiles one expression for the evaluator.
type exprCompiler struct {
	col        func(ast.ExprNode) (int, error)
	weight     func(ast.ExprNode) (int, error) // nil: strings are not compared
	underlying func(ast.ExprNode) ast.ExprNode
	clause     string
}

func (c *exprCompiler) compile(e ast.ExprNode) (engine.Expr, error) {
	switch x := e.(type) {
	case *rowColumn:
		return x.expr, nil // a part a shard computed (build_join_expr.go)
	case *ast.ParenthesesExpr:
		return c.compile(x.Expr)
	case *ast.FuncCallExpr:
		sub := c.compile
		if takesStringForm(x) {
			sub = c.compileStringForm
		}
		if f, ok, err := compileFunc(x, sub); ok || err != nil {
			return f, err
		}
	case *ast.CaseExpr:
		return compileCase(x, c.compile)
	case *ast.AggregateFuncExpr:
		if avg, ok := avgAsDivision(x); ok {
			// MySQL reads AVG inside an expression as SUM/COUNT with the
			// digits of a decimal division, not rounded to AVG's scale.
			return c.compile(avg)
		}
		i, err := c.col(x)
		if err != nil {
			return nil, err
		}
		return engine.ColumnExpr(i), nil
	case *ast.ColumnNameExpr:
		i, err := c.col(x)
		if err != nil {
			return nil, err
		}
		return engine.ColumnExpr(i), nil
	case *valueExpr:
		return literalExpr(x, c.clause)
	case *paramMarker:
		return engine.ArgExpr(x.index), nil
	case *scalarHole:
		return engine.ArgExpr(x.param), nil // an uncorrelated subquery's value
	case *ast.UnaryOperationExpr:
		in, err := c.compile(x.V)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case opcode.Not, opcode.Not2:
			return engine.NotExpr(in), nil
		case opcode.Minus:
			return engine.NegExpr(in), nil
		case opcode.Plus:
			return in, nil
		}
	case *ast.IsNullExpr:
		in, err := c.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		return engine.IsNullExpr(in, x.Not), nil
	case *ast.IsTruthExpr:
		in, err := c.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		return engine.IsTruthExpr(in, x.True != 0, x.Not), nil
	case *ast.BetweenExpr:
		ge := &ast.BinaryOperationExpr{Op: opcode.GE, L: x.Expr, R: x.Left}
		le := &ast.BinaryOperationExpr{Op: opcode.LE, L: x.Expr, R: x.Right}
		var all ast.ExprNode = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: ge, R: le}
		if x.Not {
			all = &ast.UnaryOperationExpr{Op: opcode.Not, V: all}
		}
		return c.compile(all)
	case *ast.PatternInExpr:
		if x.Sel != nil {
			break
		}
		var or ast.ExprNode
		for _, item := range x.List {
			var eq ast.ExprNode = &ast.BinaryOperationExpr{Op: opcode.EQ, L: x.Expr, R: item}
			if or == nil {
				or = eq
			} else {
				or = &ast.BinaryOperationExpr{Op: opcode.LogicOr, L: or, R: eq}
			}
		}
		if x.Not {
			or = &ast.UnaryOperationExpr{Op: opcode.Not, V: or}
		}
		return c.compile(or)
	case *ast.BinaryOperationExpr:
		if c.weight != nil && isComparison(x.Op) {
			return c.compileComparison(x)
		}
		l, err := c.compile(x.L)
		if err != nil {
			return nil, err
		}
		r, err := c.compile(x.R)
		if err != nil {
			return nil, err
		}
		if op, ok := binaryOpOf(x.Op); ok {
			if f := engine.BinaryExpr(op, l, r); f != nil {
				return f, nil
			}
		}
	}
	if c.pushable(e) {
		i, err := c.col(e)
		if err != nil {
			return nil, err
		}
		return engine.ColumnExpr(i), nil
	}
	s, _ := restore(e)
	return nil, unsupportedf("the expression %s in %s across shards", s, c.clause)
}

// pushable says whether e may be computed by the shards as a hidden
// column of the group: in HAVING, with strings comparable, an expression
// of no aggregate, subquery, window function or parameter.
func (c *exprCompiler) pushable(e ast.ExprNode) bool {
	if c.weight == nil || c.clause != "HAVING" {
		return false
	}
	return !findNode(e, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.AggregateFuncExpr, *ast.SubqueryExpr, *ast.WindowFuncExpr, *paramMarker, *ast.VariableExpr:
			return true
		}
		return false
	})
}

func isComparison(op opcode.Op) bool {
	switch op {
	case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE, opcode.NullEQ:
		return true
	}
	return false
}

// compileComparison compiles a comparison whose operands may be strings:
// each string literal with its weight in the other operand's collation,
// each column or aggregate with its weight_string column, so that the
// evaluator compares them as MySQL would.
func (c *exprCompiler) compileComparison(x *ast.BinaryOperationExpr) (engine.Expr, error) {
	l, err := c.operand(x.L, x.R)
	if err != nil {
		return nil, err
	}
	r, err := c.operand(x.R, x.L)
	if err != nil {
		return nil, err
	}
	op, _ := binaryOpOf(x.Op)
	return engine.BinaryExpr(op, l, r), nil
}

// operand compiles side, compared with other.
func (c *exprCompiler) operand(side, other ast.ExprNode) (engine.Expr, error) {
	side = unparen(side)
	other = unparen(other)
	if _, isCol := other.(*ast.ColumnNameExpr); isCol && c.underlying != nil {
		other = unparen(c.underlying(other)) // an alias: what it names
	}
	switch x := side.(type) {
	case *valueExpr:
		if s, isStr := x.val.(string); isStr {
			w, err := c.coercedWeight(side, other)
			if err != nil {
				return nil, err
			}
			return engine.StringWeightExpr(s, w), nil
		}
		return c.compile(side)
	case *paramMarker:
		// A normalised literal or a bound ?: maybe a string, weighed in
		// case it is when the other operand may be a string.
		if !c.mayBeString(other) {
			return c.compile(side)
		}
		w, err := c.coercedWeight(side, other)
		if err != nil {
			return nil, err
		}
		return engine.ArgWeightExpr(x.index, w), nil
	}
	leaf := false
	switch x := side.(type) {
	case *ast.ColumnNameExpr:
		leaf = true
	case *ast.AggregateFuncExpr:
		_, isAvg := avgAsDivision(x)
		leaf = !isAvg
	case *ast.FuncCallExpr:
		// LOWER(name) = 'bob': computed by the shards with its weight.
		leaf = isStringLiteral(other) && c.pushable(side)
	}
	if !leaf {
		return c.compile(side)
	}
	i, err := c.col(side)
	if err != nil {
		return nil, err
	}
	w, err := c.weight(side)
	if err != nil {
		return nil, err
	}
	return engine.ColumnWeightExpr(i, w), nil
}

// coercedWeight pushes the weight of literal (a string or a parameter)
// in the collation MySQL coerces it to when compared with other (other's
// own): weight_string(IF(FALSE, other, literal)).
func (c *exprCompiler) coercedWeight(literal, other ast.ExprNode) (int, error) {
	coerced := &ast.FuncCallExpr{FnName: ast.NewCIStr("if"), Args: []ast.ExprNode{
		ast.NewValueExpr(false, "", ""), unparen(other), literal}}
	return c.col(weightOf(coerced))
}

// mayBeString says whether a compared operand may be a string the
// evaluator compares by weight: a column, MIN or MAX, a string literal or
// a function the shards compute; not COUNT, SUM, AVG or arithmetic.
func (c *exprCompiler) mayBeString(e ast.ExprNode) bool {
	switch x := unparen(e).(type) {
	case *ast.ColumnNameExpr:
		return true
	case *ast.AggregateFuncExpr:
		f := strings.ToLower(x.F)
		return f == ast.AggFuncMin || f == ast.AggFuncMax
	case *ast.FuncCallExpr:
		return c.pushable(x)
	}
	return isStringLiteral(e)
}

// isStringLiteral says whether e is a string literal or a parameter
// (which a normalised string literal is).
func isStringLiteral(e ast.ExprNode) bool {
	switch x := unparen(e).(type) {
	case *valueExpr:
		_, isStr := x.val.(string)
		return isStr
	case *paramMarker:
		return true
	}
	return false
}

// binaryOpOf maps the parser's operators to the evaluator's.
func binaryOpOf(op opcode.Op) (engine.BinaryOp, bool) {
	switch op {
	case opcode.LogicAnd:
		return engine.OpAnd, true
	case opcode.LogicOr:
		return engine.OpOr, true
	case opcode.LogicXor:
		return engine.OpXor, true
	case opcode.EQ:
		return engine.OpEQ, true
	case opcode.NE:
		return engine.OpNE, true
	case opcode.LT:
		return engine.OpLT, true
	case opcode.LE:
		return engine.OpLE, true
	case opcode.GT:
		return engine.OpGT, true
	case opcode.GE:
		return engine.OpGE, true
	case opcode.NullEQ:
		return engine.OpNullEQ, true
	case opcode.Plus:
		return engine.OpPlus, true
	case opcode.Minus:
		return engine.OpMinus, true
	case opcode.Mul:
		return engine.OpMul, true
	case opcode.Div:
		return engine.OpDiv, true
	case opcode.IntDiv:
		return engine.OpIntDiv, true
	case opcode.Mod:
		return engine.OpMod, true
	}
	return 0, false
}

// literalExpr reads a literal for the evaluator: numbers only.
func literalExpr(x *valueExpr, clause string) (engine.Expr, error) {
	if d, ok := x.val.(decimalLit); ok {
		if f, ok := engine.DecimalExpr(string(d)); ok {
			return f, nil
		}
	} else if f, ok := engine.NumberExpr(x.val); ok {
		return f, nil
	} else if str, ok := x.val.(string); ok {
		// A string result (CASE ... THEN 'many'); compared, it has no
		// weight (compileComparison gives one to a literal it compares),
		// so the evaluator refuses the comparison.
		return engine.StringExpr(str), nil
	}
	s, _ := x.sqlText()
	return nil, unsupportedf("the literal %s in %s across shards", s, clause)
}
