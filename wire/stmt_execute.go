package wire

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// ErrParamType: an argument is not one of the types AppendStmtExecuteArgs
// sends (the closed set NormalizeArgs produces); the caller runs the
// statement as text instead.
var ErrParamType = errors.New("wire: argument type has no binary parameter encoding")

// unsignedParam is the flag byte after a parameter's type for an unsigned
// integer.
const unsignedParam = 0x80

// AppendStmtExecuteArgs appends COM_STMT_EXECUTE of statement id with its
// arguments, sending their types (new-params-bound) every time, so a
// shard statement reused by executions with other argument types reads
// each as sent:
//
//	command              [1]  0x17
//	statement id         [4]
//	flags                [1]  0 (CURSOR_TYPE_NO_CURSOR)
//	iteration count      [4]  1
//	NULL bitmap          [(n+7)/8]       only with parameters
//	new params bound     [1]  1
//	types                [2] per param:  type, 0x80 if unsigned
//	values                               binary encoding, none for NULL
//
// Arguments are those of NormalizeArgs: nil (NULL), int64 (LONGLONG),
// uint64 (unsigned LONGLONG), float64 (DOUBLE) and []byte (STRING: read by
// the server in the connection's character set, as a quoted literal of the
// text protocol is). A float64 travels as its exact bits; the text
// protocol's literal (AppendLiteral's shortest form with an exponent)
// reads back as the same double. Anything else is ErrParamType.
func AppendStmtExecuteArgs(dst []byte, id uint32, args []any) ([]byte, error) {
	dst = AppendStmtExecute(dst, id)
	if len(args) == 0 {
		return dst, nil
	}
	bitmap := len(dst)
	for range (len(args) + 7) / 8 {
		dst = append(dst, 0)
	}
	dst = append(dst, 1) // new params bound
	for i, a := range args {
		var typ, flag byte
		switch a.(type) {
		case nil:
			typ = mysql.MYSQL_TYPE_NULL
			dst[bitmap+i/8] |= 1 << (i % 8)
		case int64:
			typ = mysql.MYSQL_TYPE_LONGLONG
		case uint64:
			typ, flag = mysql.MYSQL_TYPE_LONGLONG, unsignedParam
		case float64:
			typ = mysql.MYSQL_TYPE_DOUBLE
		case []byte:
			typ = mysql.MYSQL_TYPE_STRING
		default:
			return nil, ErrParamType
		}
		dst = append(dst, typ, flag)
	}
	for _, a := range args {
		switch v := a.(type) {
		case int64:
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
		case uint64:
			dst = binary.LittleEndian.AppendUint64(dst, v)
		case float64:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		case []byte:
			dst = AppendLenEncInt(dst, uint64(len(v)))
			dst = append(dst, v...)
		}
	}
	return dst, nil
}
