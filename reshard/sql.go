package reshard

import (
	"encoding/hex"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/sqlquote"
)

// binaryCharset is the collation id of the binary character set, the one
// BINARY, VARBINARY, BLOB and BIT columns report.
const binaryCharset = 63

// quoteIdent quotes an identifier with backticks.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// isNumeric reports whether a column's text values are numbers that can
// be written as unquoted literals.
func isNumeric(f *mysql.Field) bool {
	switch f.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24,
		mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_YEAR,
		mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL,
		mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		return true
	}
	return false
}

// isInteger reports whether a column holds integers.
func isInteger(f *mysql.Field) bool {
	switch f.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24,
		mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_YEAR:
		return true
	}
	return false
}

// appendLiteral appends a text-protocol value (nil is NULL) as an SQL
// literal of column f that reads back as the same value: numbers as
// they are (after checking they are one), binary data in hex (X'..', so no
// character set conversion touches it) and everything else as a quoted,
// escaped string that the column's collation compares as the source did.
func appendLiteral(b []byte, f *mysql.Field, v []byte) []byte {
	switch {
	case v == nil:
		return append(b, "NULL"...)
	case isNumeric(f) && isNumberText(v):
		return append(b, v...)
	case f.Charset == binaryCharset:
		b = append(b, "X'"...)
		b = hex.AppendEncode(b, v)
		return append(b, '\'')
	}
	return sqlquote.Append(b, v)
}

// isNumberText accepts what a server writes for a number: sign, digits,
// '.', and an exponent. Anything else is quoted instead, so a value can
// never end the literal early.
func isNumberText(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}
