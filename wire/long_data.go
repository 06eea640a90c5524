package wire

import (
	"encoding/binary"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// COM_STMT_SEND_LONG_DATA:
//
//	[0x18] stmt_id [32 bit] param_id [16 bit] data [rest]
//
// The command has no response. LongData keeps the chunks and, at the
// statement's next execute, writes them into the COM_STMT_EXECUTE payload
// as the parameter's value, typed LONG_BLOB (Inline). Data is dropped at
// that execute, at COM_STMT_RESET and at COM_STMT_CLOSE, as in MySQL.
// (Why the gateway needs this at all: gomysql_fence.go.)

// DefaultMaxAllowedPacket is MySQL 8's default max_allowed_packet, the
// Limit of one parameter's long data when none is set.
const DefaultMaxAllowedPacket = 64 << 20

// LongData holds the chunks sent for one session's statements.
type LongData struct {
	// Max bounds one parameter's data (max_allowed_packet, as MySQL's
	// max_long_data_size did); 0 is DefaultMaxAllowedPacket.
	Max int
	// data per statement and parameter.
	data map[uint32]map[uint16][]byte
	// tooLarge marks statements whose data went over max: their next
	// execute is refused (1153) instead of run with part of a value.
	tooLarge map[uint32]bool
}

// Add keeps one COM_STMT_SEND_LONG_DATA payload (after the command byte).
func (l *LongData) Add(payload []byte) {
	if len(payload) < 6 {
		return
	}
	id := binary.LittleEndian.Uint32(payload[0:4])
	param := binary.LittleEndian.Uint16(payload[4:6])
	if l.tooLarge[id] {
		return
	}
	if l.data == nil {
		l.data, l.tooLarge = map[uint32]map[uint16][]byte{}, map[uint32]bool{}
	}
	if l.data[id] == nil {
		l.data[id] = map[uint16][]byte{}
	}
	max := l.Limit()
	cur := l.data[id][param]
	if len(cur)+len(payload)-6 > max {
		l.tooLarge[id] = true
		l.data[id][param] = cur[:0]
		return
	}
	l.data[id][param] = append(cur, payload[6:]...)
}

// Limit is the most data one parameter may get.
func (l *LongData) Limit() int {
	if l.Max <= 0 {
		return DefaultMaxAllowedPacket
	}
	return l.Max
}

// Drop forgets a statement's data.
func (l *LongData) Drop(id uint32) {
	delete(l.data, id)
	delete(l.tooLarge, id)
}

// TakeTooLarge reports, once, that the statement's data went over max.
func (l *LongData) TakeTooLarge(id uint32) bool {
	if !l.tooLarge[id] {
		return false
	}
	delete(l.tooLarge, id)
	return true
}

// Inline rewrites an execute payload of statement id with n parameters
// whose types are known (types, two bytes each): the values of parameters
// with long data go in as LONG_BLOB. It appends the new payload to dst;
// ok is false when the statement has no long data or the packet cannot be
// read (go-mysql then reports it as it does).
func (l *LongData) Inline(dst, payload []byte, id uint32, n int, types []byte) (out []byte, ok bool) {
	chunks := l.data[id]
	if len(chunks) == 0 || len(types) != 2*n {
		return dst, false
	}
	nullAt := 10
	valuesAt := nullAt + (n+7)/8 + 1
	if payload[valuesAt-1] == 1 {
		valuesAt += 2 * n
	}
	if len(payload) < valuesAt {
		return dst, false
	}
	dst = append(dst, payload[:nullAt]...)
	dst = append(dst, payload[nullAt:nullAt+(n+7)/8]...)
	dst = append(dst, 1)
	typesAt := len(dst)
	dst = append(dst, types...)
	pos := valuesAt
	for i := 0; i < n; i++ {
		if payload[nullAt+i>>3]&(1<<(i&7)) != 0 {
			continue
		}
		if data, ok := chunks[uint16(i)]; ok {
			dst[typesAt+2*i], dst[typesAt+2*i+1] = mysql.MYSQL_TYPE_LONG_BLOB, 0
			dst = AppendLenEncInt(dst, uint64(len(data)))
			dst = append(dst, data...)
			continue
		}
		w, ok := ParamWidth(types[2*i], payload[pos:])
		if !ok {
			return dst[:0], false
		}
		dst = append(dst, payload[pos:pos+w]...)
		pos += w
	}
	if pos != len(payload) {
		return dst[:0], false
	}
	return dst, true
}

// ParamWidth is the size of one binary-protocol parameter value of type
// typ at the start of b (COM_STMT_EXECUTE's values).
func ParamWidth(typ byte, b []byte) (int, bool) {
	w := 0
	switch typ {
	case mysql.MYSQL_TYPE_NULL:
		return 0, true
	case mysql.MYSQL_TYPE_TINY:
		w = 1
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		w = 2
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_FLOAT:
		w = 4
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DOUBLE:
		w = 8
	default:
		// Strings, blobs, decimals and temporals: length-encoded (go-mysql's
		// decoder reads past a truncated prefix: check it first).
		if len(b) == 0 || (b[0] == 0xfc && len(b) < 3) || (b[0] == 0xfd && len(b) < 4) || (b[0] == 0xfe && len(b) < 9) {
			return 0, false
		}
		n, null, lw := mysql.LengthEncodedInt(b)
		if null || lw == 0 || uint64(len(b)-lw) < n {
			return 0, false
		}
		w = lw + int(n)
	}
	return w, len(b) >= w
}
