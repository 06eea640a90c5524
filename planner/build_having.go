package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// compileExpr turns an expression into an evalFn; col maps the leaves the
// gateway cannot compute (columns, aggregate functions) to columns of the
// merged row. What the evaluator cannot compute is refused here, at plan
// time (1235).
func compileExpr(e ast.ExprNode, col func(ast.ExprNode) (int, error)) (evalFn, error) {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return compileExpr(x.Expr, col)
	case *ast.ColumnNameExpr, *ast.AggregateFuncExpr:
		i, err := col(x)
		if err != nil {
			return nil, err
		}
		return columnExpr(i), nil
	case *valueExpr:
		return literalExpr(x)
	case *paramMarker:
		return argExpr(x.index), nil
	case *ast.UnaryOperationExpr:
		in, err := compileExpr(x.V, col)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case opcode.Not, opcode.Not2:
			return notExpr(in), nil
		case opcode.Minus:
			return negExpr(in), nil
		case opcode.Plus:
			return in, nil
		}
	case *ast.IsNullExpr:
		in, err := compileExpr(x.Expr, col)
		if err != nil {
			return nil, err
		}
		return isNullExpr(in, x.Not), nil
	case *ast.IsTruthExpr:
		in, err := compileExpr(x.Expr, col)
		if err != nil {
			return nil, err
		}
		return isTruthExpr(in, x.True != 0, x.Not), nil
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
			if f := binaryExpr(op, l, r); f != nil {
				return f, nil
			}
		}
	}
	s, _ := restore(e)
	return nil, unsupportedf("the expression %s in HAVING across shards", s)
}

// binaryOpOf maps the parser's operators to the evaluator's.
func binaryOpOf(op opcode.Op) (binaryOp, bool) {
	switch op {
	case opcode.LogicAnd:
		return opAnd, true
	case opcode.LogicOr:
		return opOr, true
	case opcode.LogicXor:
		return opXor, true
	case opcode.EQ:
		return opEQ, true
	case opcode.NE:
		return opNE, true
	case opcode.LT:
		return opLT, true
	case opcode.LE:
		return opLE, true
	case opcode.GT:
		return opGT, true
	case opcode.GE:
		return opGE, true
	case opcode.NullEQ:
		return opNullEQ, true
	case opcode.Plus:
		return opPlus, true
	case opcode.Minus:
		return opMinus, true
	case opcode.Mul:
		return opMul, true
	case opcode.Div:
		return opDiv, true
	case opcode.IntDiv:
		return opIntDiv, true
	case opcode.Mod:
		return opMod, true
	}
	return 0, false
}

// literalExpr reads a literal for the evaluator: numbers only.
func literalExpr(x *valueExpr) (evalFn, error) {
	if d, ok := x.val.(decimalLit); ok {
		if f, ok := decimalExpr(string(d)); ok {
			return f, nil
		}
	} else if f, ok := numberExpr(x.val); ok {
		return f, nil
	}
	s, _ := x.sqlText()
	return nil, unsupportedf("the literal %s in HAVING across shards", s)
}
