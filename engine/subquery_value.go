package engine

import (
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// The values an uncorrelated subquery binds into the outer query besides
// IN lists: a scalar subquery's value (which the gateway's evaluator may
// also read, in HAVING or a select-list expression over aggregates),
// ANY/SOME/ALL over the subquery's set, and a row IN (subquery).

// scalarArg is a scalar subquery's value as an argument of the outer
// query: the SQL literal shard queries get, and the value itself for the
// gateway's evaluator (argVal).
type scalarArg struct {
	sql  string
	val  []byte // nil: NULL
	kind sortKind
}

// scalarLiteral writes one value of a subquery's column as a literal of
// its type: integers as wide as the column's (intWidth), other numbers
// and strings as literalOf does, temporal values as
// DATE'...', TIMESTAMP'...' and TIME'...' literals (quoted strings would
// make an expression over them a string).
func scalarLiteral(f *mysql.Field, v []byte) string {
	if v == nil {
		return typedNull(f)
	}
	switch f.Type {
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return "date" + QuoteString(string(v))
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		return "timestamp" + QuoteString(string(v))
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return "time" + QuoteString(string(v))
	}
	if w := intWidth(f); w > 0 {
		return intLiteral(string(v), w)
	}
	return literalOf(v, sortKindOf(f)).SQL
}

// intWidth is the length of the integer literal that stands for a value
// of an integer column. MariaDB types an integer literal, and an
// expression over one, by its length in characters: up to 9 an INT, 10
// and more a BIGINT, and `x + 1` one character longer. A value padded
// with zeros to the column's width (at most 9 for the INT family, 20 for
// BIGINT) gives COALESCE, IF, + and * over it the type they have over the
// column; DIV and ABS still see the shorter literal. 0: leave it as it is.
func intWidth(f *mysql.Field) int {
	switch f.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG:
		return min(int(f.ColumnLength), 9)
	case mysql.MYSQL_TYPE_LONGLONG:
		if f.ColumnLength == 0 {
			return 0
		}
		return 20
	}
	return 0
}

// intLiteral writes an integer padded to width characters.
func intLiteral(v string, width int) string {
	neg := strings.HasPrefix(v, "-")
	digits := strings.TrimPrefix(v, "-")
	pad := width - len(v)
	if pad <= 0 {
		return v
	}
	if neg {
		return "-" + strings.Repeat("0", pad) + digits
	}
	return strings.Repeat("0", pad) + digits
}

// typedNull is a NULL of the column's type, so that an expression over
// it has MySQL's type (`null + 1` is a DOUBLE, an INT column's NULL plus
// 1 a BIGINT): NULLIF of a zero as wide as the column's values for
// integers (see intWidth), a CAST for the others; plain NULL where no
// cast fits.
func typedNull(f *mysql.Field) string {
	if w := intWidth(f); w > 0 {
		z := strings.Repeat("0", w)
		return "nullif(" + z + ", " + z + ")"
	}
	unsigned := f.Flag&mysql.UNSIGNED_FLAG != 0
	switch f.Type {
	case mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DECIMAL:
		// The column length counts the digits, the point and a sign.
		digits := int(f.ColumnLength)
		if f.Decimal > 0 {
			digits--
		}
		if !unsigned {
			digits--
		}
		digits = max(digits, int(f.Decimal), 1)
		return "cast(null as decimal(" + strconv.Itoa(min(digits, 65)) + ", " + strconv.Itoa(int(f.Decimal)) + "))"
	case mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		return "cast(null as double)"
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return "cast(null as date)"
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		return "cast(null as datetime(" + strconv.Itoa(min(int(f.Decimal), 6)) + "))"
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return "cast(null as time(" + strconv.Itoa(min(int(f.Decimal), 6)) + "))"
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING:
		if f.Charset != binaryCharset {
			return "cast(null as char)"
		}
	}
	return "null"
}

// scalarValue is a scalar subquery's value: NULL without a row, 1242 with
// more than one, 1241 unless it has one column.
func scalarValue(r *Result) (scalarArg, error) {
	if len(r.Fields) != 1 {
		return scalarArg{}, errOperandColumns(1)
	}
	switch len(r.Rows) {
	case 0:
		return scalarArg{sql: typedNull(r.Fields[0]), kind: sortKindOf(r.Fields[0])}, nil
	case 1:
		v := r.Rows[0][0]
		return scalarArg{sql: scalarLiteral(r.Fields[0], v), val: v, kind: sortKindOf(r.Fields[0])}, nil
	}
	return scalarArg{}, sqlerror.New(sqlerror.User, mysql.ER_SUBQUERY_NO_1_ROW, "Subquery returns more than 1 row")
}

func errOperandColumns(n int) error {
	return sqlerror.New(sqlerror.User, mysql.ER_OPERAND_COLUMNS, "Operand should contain %d column(s)", n)
}

// quantifiedValue writes `left op ANY (subquery)` or `left op ALL
// (subquery)` over the subquery's rows as the same condition over
// literals. `= ANY` and `<> ALL` are IN and NOT IN and reach the IN path;
// the others become an OR (ANY) or an AND (ALL) of one comparison per
// distinct value, which is MySQL's truth table exactly: ANY is true when
// a comparison is, NULL when none is but one is NULL, false otherwise
// (always over no rows); ALL the other way round (true over no rows).
func (s SubqueryInput) quantifiedValue(r *Result) (rawSQL, error) {
	if len(r.Fields) != 1 {
		return "", errOperandColumns(1)
	}
	all := s.Kind == SubAll
	if len(r.Rows) == 0 {
		if all {
			return "1", nil
		}
		return "0", nil
	}
	join := " or "
	if all {
		join = " and "
	}
	var sb strings.Builder
	sb.WriteString("(")
	seen := map[string]bool{}
	for _, row := range r.Rows {
		l := scalarLiteral(r.Fields[0], row[0])
		if seen[l] {
			continue
		}
		if len(seen) > 0 {
			sb.WriteString(join)
		}
		seen[l] = true
		sb.WriteString(s.Left)
		sb.WriteString(" " + s.Op + " ")
		sb.WriteString(l)
	}
	sb.WriteString(")")
	return rawSQL(sb.String()), nil
}

// rowInValue writes `(a, b) [NOT] IN (subquery)` as `(a, b) [not] in
// ((1, 'x'), ...)`: the same comparison, row by row, with MySQL's NULL
// semantics; over no rows IN is false and NOT IN true.
func (s SubqueryInput) rowInValue(r *Result) (rawSQL, error) {
	if len(r.Fields) != s.Cols {
		return "", errOperandColumns(s.Cols)
	}
	if len(r.Rows) == 0 {
		if s.Not {
			return "1", nil
		}
		return "0", nil
	}
	var sb strings.Builder
	sb.WriteString(s.Left)
	if s.Not {
		sb.WriteString(" not")
	}
	sb.WriteString(" in (")
	seen := map[string]bool{}
	var tuple strings.Builder
	for _, row := range r.Rows {
		tuple.Reset()
		tuple.WriteString("(")
		for i, v := range row {
			if i > 0 {
				tuple.WriteString(", ")
			}
			tuple.WriteString(scalarLiteral(r.Fields[i], v))
		}
		tuple.WriteString(")")
		t := tuple.String()
		if seen[t] {
			continue
		}
		if len(seen) > 0 {
			sb.WriteString(", ")
		}
		seen[t] = true
		sb.WriteString(t)
	}
	sb.WriteString(")")
	return rawSQL(sb.String()), nil
}
