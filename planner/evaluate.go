package planner

import (
	"cmp"
	"math/big"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// A small evaluator for what the gateway must compute itself after merging
// shard rows: HAVING over merged groups. It knows numbers (exact decimals
// and doubles), NULL, comparisons, AND/OR/NOT/XOR, arithmetic, IS [NOT]
// NULL, IN and BETWEEN over literals. Anything else is refused at plan time
// (1235); a string reaching a comparison at run time is refused then,
// because its collation is the backend's business.

// sqlVal is one evaluated value.
type sqlVal struct {
	null    bool
	isFloat bool
	f       float64
	r       *big.Rat // exact numbers
	str     []byte   // non-numeric column values
	isStr   bool
}

var valNull = sqlVal{null: true}

func ratVal(r *big.Rat) sqlVal { return sqlVal{r: r} }

func boolVal(b bool) sqlVal {
	if b {
		return ratVal(big.NewRat(1, 1))
	}
	return ratVal(new(big.Rat))
}

func (v sqlVal) float() float64 {
	if v.isFloat {
		return v.f
	}
	f, _ := v.r.Float64()
	return f
}

// truth is MySQL's truth value: NULL, or whether the number is non-zero.
func (v sqlVal) truth() (bool, bool) {
	if v.null {
		return false, true
	}
	if v.isFloat {
		return v.f != 0, false
	}
	return v.r.Sign() != 0, false
}

// evalFn computes a value from a merged row.
type evalFn func(row [][]byte, kinds []sortKind, args []any) (sqlVal, error)

// columnVal reads column i of a merged row as a value.
func columnVal(row [][]byte, kinds []sortKind, i int) (sqlVal, error) {
	b := row[i]
	if b == nil {
		return valNull, nil
	}
	switch kinds[i] {
	case sortDecimal:
		r, ok := new(big.Rat).SetString(string(b))
		if ok {
			return ratVal(r), nil
		}
	case sortFloat:
		f, err := strconv.ParseFloat(string(b), 64)
		if err == nil {
			return sqlVal{isFloat: true, f: f}, nil
		}
	}
	return sqlVal{str: b, isStr: true}, nil
}

// columnKinds classifies every field for the evaluator.
func columnKinds(fields []*mysql.Field) []sortKind {
	ks := make([]sortKind, len(fields))
	for i, f := range fields {
		ks[i] = sortKindOf(f)
	}
	return ks
}

// compileExpr turns an expression into an evalFn; col maps the leaves the
// gateway cannot compute (columns, aggregate functions) to columns of the
// merged row.
func compileExpr(e ast.ExprNode, col func(ast.ExprNode) (int, error)) (evalFn, error) {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return compileExpr(x.Expr, col)
	case *ast.ColumnNameExpr, *ast.AggregateFuncExpr:
		i, err := col(x)
		if err != nil {
			return nil, err
		}
		return func(row [][]byte, kinds []sortKind, _ []any) (sqlVal, error) { return columnVal(row, kinds, i) }, nil
	case *valueExpr:
		v, err := literalVal(x)
		if err != nil {
			return nil, err
		}
		return func([][]byte, []sortKind, []any) (sqlVal, error) { return v, nil }, nil
	case *paramMarker:
		n := x.index
		return func(_ [][]byte, _ []sortKind, args []any) (sqlVal, error) {
			if n < 0 || n >= len(args) {
				return sqlVal{}, errWrongArgs(n+1, len(args))
			}
			return argVal(args[n])
		}, nil
	case *ast.UnaryOperationExpr:
		in, err := compileExpr(x.V, col)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case opcode.Not, opcode.Not2:
			return func(row [][]byte, k []sortKind, args []any) (sqlVal, error) {
				v, err := in(row, k, args)
				if err != nil || v.null {
					return v, err
				}
				if v.isStr {
					return sqlVal{}, errStringCompare()
				}
				t, _ := v.truth()
				return boolVal(!t), nil
			}, nil
		case opcode.Minus:
			return func(row [][]byte, k []sortKind, args []any) (sqlVal, error) {
				v, err := in(row, k, args)
				if err != nil || v.null {
					return v, err
				}
				if v.isStr {
					return sqlVal{}, errStringCompare()
				}
				if v.isFloat {
					return sqlVal{isFloat: true, f: -v.f}, nil
				}
				return ratVal(new(big.Rat).Neg(v.r)), nil
			}, nil
		case opcode.Plus:
			return in, nil
		}
	case *ast.IsNullExpr:
		in, err := compileExpr(x.Expr, col)
		if err != nil {
			return nil, err
		}
		return func(row [][]byte, k []sortKind, args []any) (sqlVal, error) {
			v, err := in(row, k, args)
			if err != nil {
				return v, err
			}
			return boolVal(v.null != x.Not), nil
		}, nil
	case *ast.IsTruthExpr:
		in, err := compileExpr(x.Expr, col)
		if err != nil {
			return nil, err
		}
		return func(row [][]byte, k []sortKind, args []any) (sqlVal, error) {
			v, err := in(row, k, args)
			if err != nil {
				return v, err
			}
			t, null := v.truth()
			res := !null && t == (x.True != 0)
			return boolVal(res != x.Not), nil
		}, nil
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
		if f := binaryOp(x.Op, l, r); f != nil {
			return f, nil
		}
	}
	s, _ := restore(e)
	return nil, unsupportedf("the expression %s in HAVING across shards", s)
}

func errStringCompare() error {
	return unsupported("comparing strings in HAVING across shards")
}

// literalVal reads a literal for the evaluator: numbers only.
func literalVal(x *valueExpr) (sqlVal, error) {
	switch v := x.val.(type) {
	case nil:
		return valNull, nil
	case int64:
		return ratVal(new(big.Rat).SetInt64(v)), nil
	case uint64:
		return ratVal(new(big.Rat).SetUint64(v)), nil
	case bool:
		return boolVal(v), nil
	case float64:
		return sqlVal{isFloat: true, f: v}, nil
	case decimalLit:
		if r, ok := new(big.Rat).SetString(string(v)); ok {
			return ratVal(r), nil
		}
	}
	s, _ := x.sqlText()
	return sqlVal{}, unsupportedf("the literal %s in HAVING across shards", s)
}

// argVal reads an argument for the evaluator: numbers only.
func argVal(a any) (sqlVal, error) {
	switch v := a.(type) {
	case nil:
		return valNull, nil
	case int64:
		return ratVal(new(big.Rat).SetInt64(v)), nil
	case int:
		return ratVal(new(big.Rat).SetInt64(int64(v))), nil
	case uint64:
		return ratVal(new(big.Rat).SetUint64(v)), nil
	case float64:
		return sqlVal{isFloat: true, f: v}, nil
	case string:
		if r, ok := new(big.Rat).SetString(v); ok {
			return ratVal(r), nil
		}
	case []byte:
		if r, ok := new(big.Rat).SetString(string(v)); ok {
			return ratVal(r), nil
		}
	}
	return sqlVal{}, errStringCompare()
}

// evalBoth evaluates a binary operator's operands, left first.
func evalBoth(l, r evalFn, row [][]byte, k []sortKind, args []any) (sqlVal, sqlVal, error) {
	a, err := l(row, k, args)
	if err != nil {
		return a, sqlVal{}, err
	}
	b, err := r(row, k, args)
	return a, b, err
}

// binaryOp builds a binary operator, or nil for one it does not know.
func binaryOp(op opcode.Op, l, r evalFn) evalFn {
	switch op {
	case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor:
		return func(row [][]byte, k []sortKind, args []any) (sqlVal, error) {
			a, b, err := evalBoth(l, r, row, k, args)
			if err != nil {
				return sqlVal{}, err
			}
			if a.isStr || b.isStr {
				return sqlVal{}, errStringCompare()
			}
			ta, na := a.truth()
			tb, nb := b.truth()
			switch op {
			case opcode.LogicAnd:
				if (!na && !ta) || (!nb && !tb) {
					return boolVal(false), nil
				}
				if na || nb {
					return valNull, nil
				}
				return boolVal(true), nil
			case opcode.LogicOr:
				if (!na && ta) || (!nb && tb) {
					return boolVal(true), nil
				}
				if na || nb {
					return valNull, nil
				}
				return boolVal(false), nil
			}
			if na || nb {
				return valNull, nil
			}
			return boolVal(ta != tb), nil
		}
	case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE, opcode.NullEQ:
		return func(row [][]byte, k []sortKind, args []any) (sqlVal, error) {
			a, b, err := evalBoth(l, r, row, k, args)
			if err != nil {
				return sqlVal{}, err
			}
			if op == opcode.NullEQ {
				if a.null || b.null {
					return boolVal(a.null && b.null), nil
				}
			} else if a.null || b.null {
				return valNull, nil
			}
			if a.isStr || b.isStr {
				return sqlVal{}, errStringCompare()
			}
			c := compareNum(a, b)
			var res bool
			switch op {
			case opcode.EQ, opcode.NullEQ:
				res = c == 0
			case opcode.NE:
				res = c != 0
			case opcode.LT:
				res = c < 0
			case opcode.LE:
				res = c <= 0
			case opcode.GT:
				res = c > 0
			case opcode.GE:
				res = c >= 0
			}
			return boolVal(res), nil
		}
	case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.IntDiv, opcode.Mod:
		return func(row [][]byte, k []sortKind, args []any) (sqlVal, error) {
			a, b, err := evalBoth(l, r, row, k, args)
			if err != nil {
				return sqlVal{}, err
			}
			if a.null || b.null {
				return valNull, nil
			}
			if a.isStr || b.isStr {
				return sqlVal{}, errStringCompare()
			}
			return arith(op, a, b), nil
		}
	}
	return nil
}

func compareNum(a, b sqlVal) int {
	if a.isFloat || b.isFloat {
		return cmp.Compare(a.float(), b.float())
	}
	return a.r.Cmp(b.r)
}

// arith applies an arithmetic operator; division by zero is NULL, as in
// MySQL's default SQL mode.
func arith(op opcode.Op, a, b sqlVal) sqlVal {
	if a.isFloat || b.isFloat {
		x, y := a.float(), b.float()
		switch op {
		case opcode.Plus:
			return sqlVal{isFloat: true, f: x + y}
		case opcode.Minus:
			return sqlVal{isFloat: true, f: x - y}
		case opcode.Mul:
			return sqlVal{isFloat: true, f: x * y}
		}
		if y == 0 {
			return valNull
		}
		switch op {
		case opcode.Div:
			return sqlVal{isFloat: true, f: x / y}
		case opcode.IntDiv:
			return ratVal(new(big.Rat).SetInt64(int64(x / y)))
		}
		m := x - y*float64(int64(x/y))
		return sqlVal{isFloat: true, f: m}
	}
	switch op {
	case opcode.Plus:
		return ratVal(new(big.Rat).Add(a.r, b.r))
	case opcode.Minus:
		return ratVal(new(big.Rat).Sub(a.r, b.r))
	case opcode.Mul:
		return ratVal(new(big.Rat).Mul(a.r, b.r))
	}
	if b.r.Sign() == 0 {
		return valNull
	}
	q := new(big.Rat).Quo(a.r, b.r)
	switch op {
	case opcode.Div:
		return ratVal(q)
	case opcode.IntDiv:
		return ratVal(new(big.Rat).SetInt(truncRat(q)))
	}
	// MOD: a - b*trunc(a/b), sign of a.
	t := new(big.Rat).SetInt(truncRat(q))
	return ratVal(new(big.Rat).Sub(a.r, t.Mul(t, b.r)))
}

// truncRat is r rounded toward zero.
func truncRat(r *big.Rat) *big.Int {
	return new(big.Int).Quo(r.Num(), r.Denom())
}
