package wire

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// NormalizeArgs turns the values go-mysql decodes from a COM_STMT_EXECUTE
// into the closed set the planner accepts: int64, uint64, float64, []byte
// and nil. Temporal parameters arrive in their binary encoding and become
// the text MySQL would accept for them.
func NormalizeArgs(args []any) ([]any, error) {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case nil:
			out[i] = nil
		case int8:
			out[i] = int64(v)
		case int16:
			out[i] = int64(v)
		case int32:
			out[i] = int64(v)
		case int64, uint64, float64, []byte:
			out[i] = a // already in the set: no second boxing
		case uint8:
			out[i] = uint64(v)
		case uint16:
			out[i] = uint64(v)
		case uint32:
			out[i] = uint64(v)
		case float32:
			// Keep the float32's own shortest decimal form: 1.1f stays 1.1.
			f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
			out[i] = f
		case string:
			out[i] = []byte(v)
		case mysql.TypedBytes:
			b, err := typedBytesText(v)
			if err != nil {
				return nil, sqlerror.New(sqlerror.User, mysql.ER_MALFORMED_PACKET, "%v", err)
			}
			out[i] = b
		default:
			return nil, sqlerror.New(sqlerror.User, mysql.ER_MALFORMED_PACKET, "unsupported parameter type %T", a)
		}
	}
	return out, nil
}

// typedBytesText decodes binary-protocol DATE/DATETIME/TIMESTAMP/TIME
// parameters into text; every other length-encoded type is already text.
func typedBytesText(v mysql.TypedBytes) ([]byte, error) {
	b := v.Bytes
	switch v.Type {
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
		// year [16 bit] month day [hour minute second [micro 32 bit]]
		var year, month, day, hour, minute, second, micro int
		switch len(b) {
		case 0:
		case 4, 7, 11:
			year, month, day = int(binary.LittleEndian.Uint16(b)), int(b[2]), int(b[3])
			if len(b) >= 7 {
				hour, minute, second = int(b[4]), int(b[5]), int(b[6])
			}
			if len(b) == 11 {
				micro = int(binary.LittleEndian.Uint32(b[7:]))
			}
		default:
			return nil, fmt.Errorf("bad binary datetime parameter of %d bytes", len(b))
		}
		if v.Type == mysql.MYSQL_TYPE_DATE {
			return fmt.Appendf(nil, "%04d-%02d-%02d", year, month, day), nil
		}
		return fmt.Appendf(nil, "%04d-%02d-%02d %02d:%02d:%02d.%06d", year, month, day, hour, minute, second, micro), nil
	case mysql.MYSQL_TYPE_TIME:
		// negative [1] days [32 bit] hour minute second [micro 32 bit]
		if len(b) == 0 {
			return []byte("00:00:00"), nil
		}
		if len(b) != 8 && len(b) != 12 {
			return nil, fmt.Errorf("bad binary time parameter of %d bytes", len(b))
		}
		sign := ""
		if b[0] == 1 {
			sign = "-"
		}
		hours := int(binary.LittleEndian.Uint32(b[1:]))*24 + int(b[5])
		micro := 0
		if len(b) == 12 {
			micro = int(binary.LittleEndian.Uint32(b[8:]))
		}
		return fmt.Appendf(nil, "%s%02d:%02d:%02d.%06d", sign, hours, b[6], b[7], micro), nil
	}
	return b, nil
}

// ArgsSize is roughly the size of a COM_STMT_EXECUTE's values, as go-mysql
// decoded them.
func ArgsSize(args []any) int {
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			n += len(v)
		case string:
			n += len(v)
		case mysql.TypedBytes:
			n += len(v.Bytes)
		default:
			n += 8
		}
	}
	return n
}
