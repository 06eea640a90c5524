package engine

import (
	"cmp"
	"math/big"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
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
	scale   int      // digits after the point of an exact number, as MySQL's DECIMAL keeps them
	str     []byte   // non-numeric column values
	isStr   bool
	// text is a number's bytes as the column sent them (MySQL's string
	// form of the value in its column type), for string functions; nil
	// for computed numbers.
	text []byte
	// shown, when shownOK, is the decimals of an exact number's type as
	// MySQL derives it for + - * / (a division adds
	// div_precision_increment to its dividend's, where its value keeps
	// more, scale): its string form is the value rounded to them.
	shown   int
	shownOK bool
	// weight is a string's weight_string in its collation, when weighed
	// (evaluate_strings.go); pad says the collation is PAD SPACE. binary
	// strings compare byte by byte; temporal values are dates and times,
	// sent as text.
	weight           []byte
	weighed, pad     bool
	binary, temporal bool
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

// Expr computes a value from a merged row. It is the engine's tiny
// expression tree, made of closures: the planner compiles HAVING into one
// with the constructors below (ColumnExpr, ArgExpr, BinaryExpr, ...), so
// evaluating it needs no AST.
type Expr func(row [][]byte, ec *evalCtx, args []any) (sqlVal, error)

// Truth evaluates e over row, whose columns have fields, as a condition
// with the session's settings env: MySQL's truth value, or null.
func (e Expr) Truth(env EvalEnv, row [][]byte, fields []*mysql.Field, args []any) (truth, null bool, err error) {
	v, err := e(row, newEvalCtx(fields, env), args)
	if err != nil {
		return false, false, err
	}
	truth, null = v.truth()
	return truth, null, nil
}

// columnVal reads column i of a merged row as a value.
func columnVal(row [][]byte, ec *evalCtx, i int) (sqlVal, error) {
	b := row[i]
	if b == nil {
		return valNull, nil
	}
	switch ec.kinds[i] {
	case sortDecimal:
		r, ok := new(big.Rat).SetString(string(b))
		if ok {
			d := fracDigits(string(b))
			return sqlVal{r: r, scale: d, text: b, shown: d, shownOK: true}, nil
		}
	case sortFloat:
		f, err := strconv.ParseFloat(string(b), 64)
		if err == nil {
			return sqlVal{isFloat: true, f: f, text: b}, nil
		}
	}
	v := sqlVal{str: b, isStr: true}
	if i < len(ec.fields) {
		f := ec.fields[i]
		v.temporal = isTemporal(f)
		v.binary = f.Charset == binaryCharset
		v.pad = padSpace(f)
	}
	return v, nil
}

// columnKinds classifies every field for the evaluator.
func columnKinds(fields []*mysql.Field) []sortKind {
	ks := make([]sortKind, len(fields))
	for i, f := range fields {
		ks[i] = sortKindOf(f)
	}
	return ks
}

// BinaryOp is an operator of the evaluator, named apart from the parser's
// opcodes so that plans evaluate without the AST.
type BinaryOp int

// Binary operators the evaluator knows.
const (
	OpAnd BinaryOp = iota
	OpOr
	OpXor
	OpEQ
	OpNE
	OpLT
	OpLE
	OpGT
	OpGE
	OpNullEQ
	OpPlus
	OpMinus
	OpMul
	OpDiv
	OpIntDiv
	OpMod
)

// ColumnExpr reads column i of the merged row.
func ColumnExpr(i int) Expr {
	return func(row [][]byte, ec *evalCtx, _ []any) (sqlVal, error) { return columnVal(row, ec, i) }
}

// NumberExpr is a numeric literal (or NULL, or a boolean); ok is false for a
// value the evaluator does not compute with.
func NumberExpr(v any) (Expr, bool) {
	var val sqlVal
	switch x := v.(type) {
	case nil:
		val = valNull
	case int64:
		val = sqlVal{r: new(big.Rat).SetInt64(x), shownOK: true}
	case uint64:
		val = sqlVal{r: new(big.Rat).SetUint64(x), shownOK: true}
	case bool:
		val = boolVal(x)
	case float64:
		val = sqlVal{isFloat: true, f: x}
	default:
		return nil, false
	}
	return func([][]byte, *evalCtx, []any) (sqlVal, error) { return val, nil }, true
}

// DecimalExpr is an exact decimal literal given as text ("1.50").
func DecimalExpr(text string) (Expr, bool) {
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return nil, false
	}
	val := sqlVal{r: r, scale: fracDigits(text), shown: fracDigits(text), shownOK: true}
	return func([][]byte, *evalCtx, []any) (sqlVal, error) { return val, nil }, true
}

// ArgExpr reads argument n.
func ArgExpr(n int) Expr {
	return func(_ [][]byte, _ *evalCtx, args []any) (sqlVal, error) {
		if n < 0 || n >= len(args) {
			return sqlVal{}, errWrongArgs(n+1, len(args))
		}
		return argVal(args[n])
	}
}

// NotExpr is NOT in.
func NotExpr(in Expr) Expr {
	return func(row [][]byte, k *evalCtx, args []any) (sqlVal, error) {
		v, err := in(row, k, args)
		if err != nil || v.null {
			return v, err
		}
		if v.isStr {
			return sqlVal{}, errStringCompare()
		}
		t, _ := v.truth()
		return boolVal(!t), nil
	}
}

// NegExpr is -in.
func NegExpr(in Expr) Expr {
	return func(row [][]byte, k *evalCtx, args []any) (sqlVal, error) {
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
		return sqlVal{r: new(big.Rat).Neg(v.r), scale: v.scale, shown: v.shown, shownOK: v.shownOK}, nil
	}
}

// IsNullExpr is in IS [NOT] NULL.
func IsNullExpr(in Expr, not bool) Expr {
	return func(row [][]byte, k *evalCtx, args []any) (sqlVal, error) {
		v, err := in(row, k, args)
		if err != nil {
			return v, err
		}
		return boolVal(v.null != not), nil
	}
}

// IsTruthExpr is in IS [NOT] TRUE (truth set) or IS [NOT] FALSE.
func IsTruthExpr(in Expr, truth, not bool) Expr {
	return func(row [][]byte, k *evalCtx, args []any) (sqlVal, error) {
		v, err := in(row, k, args)
		if err != nil {
			return v, err
		}
		t, null := v.truth()
		res := !null && t == truth
		return boolVal(res != not), nil
	}
}

// argVal reads an argument for the evaluator: numbers only.
func argVal(a any) (sqlVal, error) {
	switch v := a.(type) {
	case nil:
		return valNull, nil
	case scalarArg:
		return columnVal([][]byte{v.val}, &evalCtx{kinds: []sortKind{v.kind}}, 0)
	case rawSQL:
		// A join variable that is a number other than an integer
		// (joinArg): DECIMAL text, or a DOUBLE's text with e0.
		if f, ok := strings.CutSuffix(string(v), "e0"); ok {
			return columnVal([][]byte{[]byte(f)}, &evalCtx{kinds: []sortKind{sortFloat}}, 0)
		}
		return columnVal([][]byte{[]byte(v)}, &evalCtx{kinds: []sortKind{sortDecimal}}, 0)
	case int64:
		return sqlVal{r: new(big.Rat).SetInt64(v), shownOK: true}, nil
	case int:
		return sqlVal{r: new(big.Rat).SetInt64(int64(v)), shownOK: true}, nil
	case uint64:
		return sqlVal{r: new(big.Rat).SetUint64(v), shownOK: true}, nil
	case float64:
		return sqlVal{isFloat: true, f: v}, nil
	case string:
		if r, ok := new(big.Rat).SetString(v); ok {
			return sqlVal{r: r, scale: fracDigits(v)}, nil
		}
	case []byte:
		if r, ok := new(big.Rat).SetString(string(v)); ok {
			return sqlVal{r: r, scale: fracDigits(string(v))}, nil
		}
	}
	return sqlVal{}, errStringCompare()
}

// evalBoth evaluates a binary operator's operands, left first.
func evalBoth(l, r Expr, row [][]byte, k *evalCtx, args []any) (sqlVal, sqlVal, error) {
	a, err := l(row, k, args)
	if err != nil {
		return a, sqlVal{}, err
	}
	b, err := r(row, k, args)
	return a, b, err
}

// BinaryExpr builds a binary operator, or nil for one it does not know.
func BinaryExpr(op BinaryOp, l, r Expr) Expr {
	switch op {
	case OpAnd, OpOr, OpXor:
		return func(row [][]byte, k *evalCtx, args []any) (sqlVal, error) {
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
			case OpAnd:
				if (!na && !ta) || (!nb && !tb) {
					return boolVal(false), nil
				}
				if na || nb {
					return valNull, nil
				}
				return boolVal(true), nil
			case OpOr:
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
	case OpEQ, OpNE, OpLT, OpLE, OpGT, OpGE, OpNullEQ:
		return func(row [][]byte, k *evalCtx, args []any) (sqlVal, error) {
			a, b, err := evalBoth(l, r, row, k, args)
			if err != nil {
				return sqlVal{}, err
			}
			if op == OpNullEQ {
				if a.null || b.null {
					return boolVal(a.null && b.null), nil
				}
			} else if a.null || b.null {
				return valNull, nil
			}
			var c int
			if a.isStr || b.isStr {
				if c, err = compareStrings(a, b); err != nil {
					return sqlVal{}, err
				}
			} else {
				c = compareNum(a, b)
			}
			var res bool
			switch op {
			case OpEQ, OpNullEQ:
				res = c == 0
			case OpNE:
				res = c != 0
			case OpLT:
				res = c < 0
			case OpLE:
				res = c <= 0
			case OpGT:
				res = c > 0
			case OpGE:
				res = c >= 0
			}
			return boolVal(res), nil
		}
	case OpPlus, OpMinus, OpMul, OpDiv, OpIntDiv, OpMod:
		return func(row [][]byte, k *evalCtx, args []any) (sqlVal, error) {
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
			return arith(op, a, b, k.env), nil
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
// MySQL's default SQL mode. Exact numbers keep MySQL's DECIMAL scales:
// + and - the larger one, * the sum, and / the digits of decimalDiv with
// the session's div_precision_increment.
func arith(op BinaryOp, a, b sqlVal, env EvalEnv) sqlVal {
	if a.isFloat || b.isFloat {
		x, y := a.float(), b.float()
		switch op {
		case OpPlus:
			return sqlVal{isFloat: true, f: x + y}
		case OpMinus:
			return sqlVal{isFloat: true, f: x - y}
		case OpMul:
			return sqlVal{isFloat: true, f: x * y}
		}
		if y == 0 {
			return valNull
		}
		switch op {
		case OpDiv:
			return sqlVal{isFloat: true, f: x / y}
		case OpIntDiv:
			return ratVal(new(big.Rat).SetInt64(int64(x / y)))
		}
		m := x - y*float64(int64(x/y))
		return sqlVal{isFloat: true, f: m}
	}
	known := a.shownOK && b.shownOK
	switch op {
	case OpPlus:
		return sqlVal{r: new(big.Rat).Add(a.r, b.r), scale: max(a.scale, b.scale), shown: max(a.shown, b.shown), shownOK: known}
	case OpMinus:
		return sqlVal{r: new(big.Rat).Sub(a.r, b.r), scale: max(a.scale, b.scale), shown: max(a.shown, b.shown), shownOK: known}
	case OpMul:
		return sqlVal{r: new(big.Rat).Mul(a.r, b.r), scale: min(a.scale+b.scale, maxDecimalScale), shown: min(a.shown+b.shown, maxDecimalScale), shownOK: known}
	}
	if b.r.Sign() == 0 {
		return valNull
	}
	q := new(big.Rat).Quo(a.r, b.r)
	switch op {
	case OpDiv:
		v := decimalDiv(q, a.scale, b.scale, env.DivPrecisionIncrement)
		v.shown, v.shownOK = min(a.shown+env.DivPrecisionIncrement, maxDecimalScale), known
		return v
	case OpIntDiv:
		return ratVal(new(big.Rat).SetInt(truncRat(q)))
	}
	// MOD: a - b*trunc(a/b), sign of a.
	t := new(big.Rat).SetInt(truncRat(q))
	return sqlVal{r: new(big.Rat).Sub(a.r, t.Mul(t, b.r)), scale: max(a.scale, b.scale)}
}

// maxDecimalScale is the most digits after the point a DECIMAL keeps.
const maxDecimalScale = 38

// decimalDiv is the quotient q of two exact numbers of scales sa and sb as
// MySQL's decimal division with divPrecisionIncrement leaves it
// for the rest of an expression: its
// digits are counted in base-10^9 words (decimal.c, do_div_mod), so 1/3
// is 0.333333333 (not 0.3333, the scale only the final result is rounded
// to), truncated, never rounded, and 1.000000/3 has eighteen digits.
func decimalDiv(q *big.Rat, sa, sb, divPrecisionIncrement int) sqlVal {
	words := func(digits int) int { return (digits + 8) / 9 * 9 }
	fa, fb := words(sa), words(sb)
	incr := max(divPrecisionIncrement-(fa-sa)-(fb-sb), 0)
	frac := min(words(fa+fb+incr), maxDecimalScale+9)
	return sqlVal{r: truncAt(q, frac), scale: frac}
}

// truncAt is r cut toward zero to digits after the point.
func truncAt(r *big.Rat, digits int) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	n := new(big.Int).Mul(r.Num(), p)
	n.Quo(n, r.Denom())
	return new(big.Rat).SetFrac(n, p)
}

// truncRat is r rounded toward zero.
func truncRat(r *big.Rat) *big.Int {
	return new(big.Int).Quo(r.Num(), r.Denom())
}

func errStringCompare() error {
	return unsupported("comparing strings in HAVING across shards")
}
