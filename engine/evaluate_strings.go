package engine

import (
	"bytes"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Comparisons of strings in gateway-evaluated expressions (HAVING over
// merged groups). A string compares by its collation's weights, which the
// shards compute: the planner pushes weight_string() of every string
// operand (a grouping column's, a MIN/MAX's, kept with the winning row),
// and, for a literal, weight_string(IF(FALSE, <the other operand>,
// 'literal')) so that the literal is weighed in the collation MySQL would
// coerce it to (the column's). Under a PAD SPACE collation the weights of
// trailing spaces are dropped ('a ' = 'a'). A string compared with a
// number is read as a DOUBLE, as MySQL does; temporal values compared
// with strings, and strings whose weights were not pushed (computed at the
// gateway: CONCAT, GROUP_CONCAT), are refused when met.

// ColumnWeightExpr reads column i of the merged row with, for a string,
// its weight_string column weight.
func ColumnWeightExpr(i, weight int) Expr {
	return func(row [][]byte, ec *evalCtx, _ []any) (sqlVal, error) {
		v, err := columnVal(row, ec, i)
		if err != nil || !v.isStr || weight < 0 || weight >= len(row) {
			return v, err
		}
		v.weight, v.weighed = row[weight], row[weight] != nil
		return v, nil
	}
}

// StringWeightExpr is a string literal compared with another operand,
// with its weight in that operand's collation in column weight.
func StringWeightExpr(s string, weight int) Expr {
	str := []byte(s)
	return func(row [][]byte, _ *evalCtx, _ []any) (sqlVal, error) {
		v := sqlVal{str: str, isStr: true, pad: true}
		if weight >= 0 && weight < len(row) && row[weight] != nil {
			v.weight, v.weighed = row[weight], true
		}
		return v, nil
	}
}

// ArgWeightExpr is argument n compared with another operand: a string
// argument (a normalised literal, a string bound to ?) stays a string,
// with its weight in that operand's collation in column weight; any
// other is read as ArgExpr reads it.
func ArgWeightExpr(n, weight int) Expr {
	return func(row [][]byte, _ *evalCtx, args []any) (sqlVal, error) {
		if n < 0 || n >= len(args) {
			return sqlVal{}, errWrongArgs(n+1, len(args))
		}
		var str []byte
		switch a := args[n].(type) {
		case string:
			str = []byte(a)
		case []byte:
			str = a
		default:
			return argVal(a)
		}
		v := sqlVal{str: str, isStr: true, pad: true}
		if weight >= 0 && weight < len(row) && row[weight] != nil {
			v.weight, v.weighed = row[weight], true
		}
		return v, nil
	}
}

// isTemporal says whether a column of field f holds dates or times.
func isTemporal(f *mysql.Field) bool {
	switch f.Type {
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2, mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2,
		mysql.MYSQL_TYPE_YEAR:
		return true
	}
	return false
}

// compareStrings compares a and b, at least one a string, as MySQL's
// comparison operators do.
func compareStrings(a, b sqlVal) (int, error) {
	if a.temporal || b.temporal {
		return 0, unsupported("comparing dates or times with strings in HAVING across shards")
	}
	if !a.isStr || !b.isStr {
		// A number and a string: both as DOUBLEs.
		return compareNum(asDouble(a), asDouble(b)), nil
	}
	if a.binary && b.binary {
		return bytes.Compare(a.str, b.str), nil
	}
	if !a.weighed || !b.weighed {
		return 0, errStringCompare()
	}
	wa, wb := a.weight, b.weight
	if a.pad && b.pad {
		wa, wb = trimSpaceWeight(a.str, wa), trimSpaceWeight(b.str, wb)
	}
	return bytes.Compare(wa, wb), nil
}

// asDouble is v as MySQL reads it in a numeric comparison: a string by
// its longest numeric prefix (after leading spaces), 0 if it has none.
func asDouble(v sqlVal) sqlVal {
	if !v.isStr {
		return v
	}
	return sqlVal{isFloat: true, f: stringPrefixDouble(v.str)}
}

// stringPrefixDouble is MySQL's string-to-DOUBLE conversion: the longest
// prefix that reads as a number.
func stringPrefixDouble(b []byte) float64 {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	s := b[i:]
	j := 0
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	digits := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j, digits = j+1, digits+1
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j, digits = j+1, digits+1
		}
	}
	if digits == 0 {
		return 0
	}
	end := j
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			end = k
		}
	}
	f, err := strconv.ParseFloat(string(s[:end]), 64)
	if err != nil {
		// Out of range: ParseFloat's ±Inf; MySQL's DOUBLE max.
		if f > 0 {
			return 1.7976931348623157e308
		} else if f < 0 {
			return -1.7976931348623157e308
		}
	}
	return f
}
