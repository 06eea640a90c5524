package engine

import (
	"math/big"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// ComputedColumn is a result column the gateway computes from a merged
// group: an expression of aggregates (SUM(a)/COUNT(*), COALESCE(SUM(x), 0))
// evaluated after the aggregates are merged. The shards computed the same
// expression over their own rows, so the column's field is MySQL's type
// for it; only the value is replaced, printed in that type.
type ComputedColumn struct {
	Col  int
	Expr Expr
	Text string
}

// computeColumns evaluates the computed columns of one merged row.
func computeColumns(cols []ComputedColumn, row [][]byte, fields []*mysql.Field, ec *evalCtx, args []any) error {
	for _, c := range cols {
		v, err := c.Expr(row, ec, args)
		if err != nil {
			return err
		}
		row[c.Col] = formatAs(v, fields[c.Col])
	}
	return nil
}

// notFixedDec is the decimals of a DOUBLE column printed in full (MySQL's
// NOT_FIXED_DEC is 31, MariaDB's 39).
const notFixedDec = 31

// formatAs prints a value the way MySQL sends a column of field f: a
// DECIMAL rounded half away from zero to its scale, a DOUBLE in full or to
// its fixed decimals, an integer rounded to a whole number.
func formatAs(v sqlVal, f *mysql.Field) []byte {
	if v.null {
		return nil
	}
	if v.isStr {
		return v.str
	}
	switch f.Type {
	case mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		x := v.float()
		if f.Decimal < notFixedDec {
			return strconv.AppendFloat(nil, x, 'f', int(f.Decimal), 64)
		}
		return []byte(formatDouble(x))
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL:
		return []byte(exactOf(v).FloatString(int(f.Decimal)))
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_INT24:
		return []byte(exactOf(v).FloatString(0))
	}
	if v.isFloat {
		return []byte(formatDouble(v.f))
	}
	return []byte(v.r.FloatString(v.scale))
}

// exactOf is a value as an exact number (a DOUBLE's exact binary value).
func exactOf(v sqlVal) *big.Rat {
	if v.isFloat {
		r, ok := new(big.Rat).SetString(strconv.FormatFloat(v.f, 'g', -1, 64))
		if ok {
			return r
		}
		return new(big.Rat)
	}
	return v.r
}
