package engine

// The evaluator's conditional functions: what applications wrap around
// aggregates (COALESCE(SUM(x), 0), IF(COUNT(*) > 0, ...), CASE). Each
// returns the chosen argument's value as it is, as MySQL's do: the result
// column's type (from the shards' fields) decides how it is printed.

// CoalesceExpr is COALESCE(args...) (and IFNULL): the first value that is
// not NULL, evaluating no further.
func CoalesceExpr(args []Expr) Expr {
	return func(row [][]byte, k []sortKind, a []any) (sqlVal, error) {
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
	return func(row [][]byte, k []sortKind, a []any) (sqlVal, error) {
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
	return func(row [][]byte, k []sortKind, a []any) (sqlVal, error) {
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
	return func(row [][]byte, k []sortKind, a []any) (sqlVal, error) {
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
	return func([][]byte, []sortKind, []any) (sqlVal, error) { return val, nil }
}
