package planner

import (
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
	compileExpr := func(e ast.ExprNode, col func(ast.ExprNode) (int, error)) (engine.Expr, error) {
		return compileIn(e, col, clause)
	}
	switch x := e.(type) {
	case *rowColumn:
		return x.expr, nil // a part a shard computed (build_join_expr.go)
	case *ast.ParenthesesExpr:
		return compileExpr(x.Expr, col)
	case *ast.FuncCallExpr:
		if f, ok, err := compileFunc(x, func(e ast.ExprNode) (engine.Expr, error) { return compileExpr(e, col) }); ok || err != nil {
			return f, err
		}
	case *ast.CaseExpr:
		return compileCase(x, func(e ast.ExprNode) (engine.Expr, error) { return compileExpr(e, col) })
	case *ast.AggregateFuncExpr:
		if avg, ok := avgAsDivision(x); ok {
			// MySQL reads AVG inside an expression as SUM/COUNT with the
			// digits of a decimal division, not rounded to AVG's scale.
			return compileExpr(avg, col)
		}
		i, err := col(x)
		if err != nil {
			return nil, err
		}
		return engine.ColumnExpr(i), nil
	case *ast.ColumnNameExpr:
		i, err := col(x)
		if err != nil {
			return nil, err
		}
		return engine.ColumnExpr(i), nil
	case *valueExpr:
		return literalExpr(x, clause)
	case *paramMarker:
		return engine.ArgExpr(x.index), nil
	case *scalarHole:
		return engine.ArgExpr(x.param), nil // an uncorrelated subquery's value
	case *ast.UnaryOperationExpr:
		in, err := compileExpr(x.V, col)
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
		in, err := compileExpr(x.Expr, col)
		if err != nil {
			return nil, err
		}
		return engine.IsNullExpr(in, x.Not), nil
	case *ast.IsTruthExpr:
		in, err := compileExpr(x.Expr, col)
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
		return compileExpr(all, col)
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
		return compileExpr(or, col)
	case *ast.BinaryOperationExpr:
		l, err := compileExpr(x.L, col)
		if err != nil {
			return nil, err
		}
		r, err := compileExpr(x.R, col)
		if err != nil {
			return nil, err
		}
		if op, ok := binaryOpOf(x.Op); ok {
			if f := engine.BinaryExpr(op, l, r); f != nil {
				return f, nil
			}
		}
	}
	s, _ := restore(e)
	return nil, unsupportedf("the expression %s in %s across shards", s, clause)
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
	} else if str, ok := x.val.(string); ok && clause != "HAVING" {
		// A string result (CASE ... THEN 'many'); HAVING still refuses
		// strings, which it would have to compare in the shards' collation.
		return engine.StringExpr(str), nil
	}
	s, _ := x.sqlText()
	return nil, unsupportedf("the literal %s in %s across shards", s, clause)
}
