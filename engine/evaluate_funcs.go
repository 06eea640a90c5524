package engine

import (
	"bytes"
	"math"
	"math/big"
	"unicode/utf8"
)

// The evaluator's conditional functions: what applications wrap around
// aggregates (COALESCE(SUM(x), 0), IF(COUNT(*) > 0, ...), CASE). Each
// returns the chosen argument's value as it is, as MySQL's do: the result
// column's type (from the shards' fields) decides how it is printed.

// CoalesceExpr is COALESCE(args...) (and IFNULL): the first value that is
// not NULL, evaluating no further.
func CoalesceExpr(args []Expr) Expr {
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		for _, e := range args {
			v, err := e(row, k, a)
			if err != nil || !v.null {
				return v, err
			}
		}
		return valNull, nil
	}
}

// IfExpr is IF(cond, then, els): then when cond is true (not NULL, not 0).
func IfExpr(cond, then, els Expr) Expr {
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		c, err := cond(row, k, a)
		if err != nil {
			return c, err
		}
		if c.isStr {
			return sqlVal{}, errStringCompare()
		}
		if t, null := c.truth(); t && !null {
			return then(row, k, a)
		}
		return els(row, k, a)
	}
}

// NullIfExpr is NULLIF(x, y): NULL when x = y, else x.
func NullIfExpr(x, y Expr) Expr {
	eq := BinaryExpr(OpEQ, x, y)
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		c, err := eq(row, k, a)
		if err != nil {
			return c, err
		}
		if t, null := c.truth(); t && !null {
			return valNull, nil
		}
		return x(row, k, a)
	}
}

// CaseWhen is one WHEN ... THEN ... of a CASE.
type CaseWhen struct {
	When, Then Expr
}

// CaseExpr is CASE [operand] WHEN ... THEN ... [ELSE els] END; with an
// operand each WHEN is compared to it with =, else each WHEN is a
// condition. A nil els is ELSE NULL.
func CaseExpr(operand Expr, whens []CaseWhen, els Expr) Expr {
	conds := make([]Expr, len(whens))
	for i, w := range whens {
		conds[i] = w.When
		if operand != nil {
			conds[i] = BinaryExpr(OpEQ, operand, w.When)
		}
	}
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		for i, c := range conds {
			v, err := c(row, k, a)
			if err != nil {
				return v, err
			}
			if v.isStr {
				return sqlVal{}, errStringCompare()
			}
			if t, null := v.truth(); t && !null {
				return whens[i].Then(row, k, a)
			}
		}
		if els == nil {
			return valNull, nil
		}
		return els(row, k, a)
	}
}

// StringExpr is a string literal: a value to return, never to compare
// (comparisons of strings are refused when evaluated).
func StringExpr(s string) Expr {
	val := sqlVal{str: []byte(s), isStr: true}
	return func([][]byte, *evalCtx, []any) (sqlVal, error) { return val, nil }
}

// The evaluator's numeric and string functions over merged aggregates
// (ROUND(AVG(x), 2), LENGTH(GROUP_CONCAT(...)), CONCAT('n=', COUNT(*))).
// Exact numbers follow MySQL's DECIMAL arithmetic (ROUND half away from
// zero, TRUNCATE toward zero); DOUBLEs follow MariaDB's my_double_round
// (rint, i.e. half to even, on the scaled value). The result column's
// field still comes from the shards, so only the value is computed here.

// RoundExpr is ROUND(x, d) or, with truncate, TRUNCATE(x, d); a nil d is
// ROUND(x).
func RoundExpr(x, d Expr, truncate bool) Expr {
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		v, err := x(row, k, a)
		if err != nil || v.null {
			return v, err
		}
		digits := int64(0)
		if d != nil {
			dv, err := d(row, k, a)
			if err != nil || dv.null {
				return valNull, err
			}
			if dv.isStr {
				return sqlVal{}, errStringArg("ROUND")
			}
			digits = roundHalfAway(exactOf(dv)).Int64()
		}
		if v.isStr {
			return sqlVal{}, errStringArg("ROUND")
		}
		if v.isFloat {
			return sqlVal{isFloat: true, f: doubleRound(v.f, digits, truncate)}, nil
		}
		return roundExact(v, digits, truncate), nil
	}
}

// roundExact rounds an exact number to digits after the point (before it
// when negative), half away from zero, or cuts it toward zero.
func roundExact(v sqlVal, digits int64, truncate bool) sqlVal {
	if digits > maxDecimalScale {
		return v
	}
	if digits < -maxDecimalScale {
		return ratVal(new(big.Rat))
	}
	abs := digits
	if abs < 0 {
		abs = -abs
	}
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(abs), nil))
	scaled := new(big.Rat)
	if digits >= 0 {
		scaled.Mul(v.r, p)
	} else {
		scaled.Quo(v.r, p)
	}
	var n *big.Int
	if truncate {
		n = truncRat(scaled)
	} else {
		n = roundHalfAway(scaled)
	}
	out := new(big.Rat).SetInt(n)
	if digits >= 0 {
		out.Quo(out, p)
	} else {
		out.Mul(out, p)
	}
	return sqlVal{r: out, scale: int(max(min(int64(v.scale), digits), 0))}
}

// roundHalfAway is r rounded to an integer, halves away from zero.
func roundHalfAway(r *big.Rat) *big.Int {
	a := new(big.Rat).Abs(r)
	a.Add(a, big.NewRat(1, 2))
	n := truncRat(a)
	if r.Sign() < 0 {
		n.Neg(n)
	}
	return n
}

// doubleRound is MariaDB's my_double_round.
func doubleRound(x float64, digits int64, truncate bool) float64 {
	abs := digits
	if abs < 0 {
		abs = -abs
	}
	tmp := math.Pow(10, float64(abs))
	div, mul := x/tmp, x*tmp
	switch {
	case digits < 0 && math.IsInf(tmp, 0):
		return 0
	case digits >= 0 && math.IsInf(mul, 0):
		return x
	case truncate && digits < 0:
		if x >= 0 {
			return math.Floor(div) * tmp
		}
		return math.Ceil(div) * tmp
	case truncate:
		if x >= 0 {
			return math.Floor(mul) / tmp
		}
		return math.Ceil(mul) / tmp
	case digits < 0:
		return math.RoundToEven(div) * tmp
	}
	return math.RoundToEven(mul) / tmp
}

// FloorExpr is FLOOR(x) or, with ceil, CEIL(x).
func FloorExpr(x Expr, ceil bool) Expr {
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		v, err := x(row, k, a)
		if err != nil || v.null {
			return v, err
		}
		switch {
		case v.isStr:
			return sqlVal{}, errStringArg("FLOOR and CEIL")
		case v.isFloat && ceil:
			return sqlVal{isFloat: true, f: math.Ceil(v.f)}, nil
		case v.isFloat:
			return sqlVal{isFloat: true, f: math.Floor(v.f)}, nil
		}
		n := new(big.Int)
		m := new(big.Int)
		n.DivMod(v.r.Num(), v.r.Denom(), m) // Euclidean: floor for a positive denominator
		if ceil && m.Sign() != 0 {
			n.Add(n, big.NewInt(1))
		}
		return ratVal(new(big.Rat).SetInt(n)), nil
	}
}

// AbsExpr is ABS(x).
func AbsExpr(x Expr) Expr {
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		v, err := x(row, k, a)
		switch {
		case err != nil || v.null:
			return v, err
		case v.isStr:
			return sqlVal{}, errStringArg("ABS")
		case v.isFloat:
			return sqlVal{isFloat: true, f: math.Abs(v.f)}, nil
		}
		return sqlVal{r: new(big.Rat).Abs(v.r), scale: v.scale}, nil
	}
}

// ExtremumExpr is GREATEST(args...) or, with least, LEAST(args...) of
// numbers: NULL if any argument is; compared as DOUBLEs when one is.
// Strings are refused (their order is the collation's business).
func ExtremumExpr(args []Expr, least bool) Expr {
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		var best sqlVal
		anyFloat := false
		for i, e := range args {
			v, err := e(row, k, a)
			if err != nil || v.null {
				return v, err
			}
			if v.isStr {
				return sqlVal{}, errStringArg("GREATEST and LEAST")
			}
			anyFloat = anyFloat || v.isFloat
			if i == 0 {
				best = v
			} else if c := compareNum(v, best); (least && c < 0) || (!least && c > 0) {
				best = v
			}
		}
		best.text = nil
		if anyFloat && !best.isFloat {
			return sqlVal{isFloat: true, f: best.float()}, nil
		}
		return best, nil
	}
}

// LengthExpr is LENGTH(x) (bytes) or, with chars, CHAR_LENGTH(x) of a
// column's value (utf8mb4, the connection's character set).
func LengthExpr(x Expr, chars bool) Expr {
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		v, err := x(row, k, a)
		if err != nil || v.null {
			return v, err
		}
		b, err := textOf(v)
		if err != nil {
			return sqlVal{}, err
		}
		n := len(b)
		if chars {
			n = utf8.RuneCount(b)
		}
		return ratVal(new(big.Rat).SetInt64(int64(n))), nil
	}
}

// ConcatExpr is CONCAT(args...): NULL if any argument is.
func ConcatExpr(args []Expr) Expr {
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		var out []byte
		for _, e := range args {
			v, err := e(row, k, a)
			if err != nil || v.null {
				return v, err
			}
			b, err := textOf(v)
			if err != nil {
				return sqlVal{}, err
			}
			out = append(out, b...)
		}
		if out == nil {
			out = []byte{}
		}
		return sqlVal{str: out, isStr: true}, nil
	}
}

// textOf is a value's string form: a string's bytes, a number's as its
// column sent it, or exact arithmetic's rounded to its type's decimals
// (sqlVal.shown). Another computed number's (a DOUBLE, ROUND's) depends
// on a type the evaluator does not track: refused.
func textOf(v sqlVal) ([]byte, error) {
	switch {
	case v.isStr:
		return v.str, nil
	case v.text != nil:
		return v.text, nil
	case v.shownOK && !v.isFloat:
		// Arithmetic of exact numbers: its value rounded half away from
		// zero to its type's decimals, as MySQL's val_str rounds it.
		return []byte(v.r.FloatString(v.shown)), nil
	}
	return nil, unsupported("string functions of computed numbers across shards")
}

func errStringArg(fn string) error {
	return unsupportedf("%s of a string across shards", fn)
}

// CaseMapExpr is LOWER(x) or, with upper, UPPER(x) of a number's string
// form (a merged COUNT, SUM, AVG, or a MIN/MAX of numbers, as its column
// sent it): digits, sign, point and exponent, whose case is ASCII's in
// every character set. A binary string is returned unchanged, as MySQL
// leaves it. Any other string is refused when met: its case mapping is
// its collation's (Turkish maps i to İ), which the gateway does not know
// from the result's character set.
func CaseMapExpr(x Expr, upper bool) Expr {
	return func(row [][]byte, k *evalCtx, a []any) (sqlVal, error) {
		v, err := x(row, k, a)
		if err != nil || v.null {
			return v, err
		}
		if v.isStr {
			if v.binary {
				return v, nil
			}
			return sqlVal{}, unsupported("LOWER and UPPER of strings computed at the gateway across shards")
		}
		b, err := textOf(v)
		if err != nil {
			return sqlVal{}, err
		}
		if upper {
			b = bytes.ToUpper(b)
		} else {
			b = bytes.ToLower(b)
		}
		return sqlVal{str: b, isStr: true}, nil
	}
}
