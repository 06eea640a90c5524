package wire

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The server side of COM_STMT_EXECUTE: the gateway reads a client's
// execute itself (ServerFence.NextCommand) instead of through go-mysql,
// which allocates a fresh packet buffer and a fresh argument slice per
// execute and boxes every value twice (its own type, then NormalizeArgs').
// Anything unusual is left to go-mysql, so its answers stay what they
// were.

// StmtExecuteID returns the statement id of a COM_STMT_EXECUTE payload
// (command byte included); ok is false for a payload too short to be one.
func StmtExecuteID(payload []byte) (id uint32, ok bool) {
	if len(payload) < 10 || payload[0] != mysql.COM_STMT_EXECUTE {
		return 0, false
	}
	return binary.LittleEndian.Uint32(payload[1:5]), true
}

// DecodeStmtExecuteArgs appends to dst the arguments of a COM_STMT_EXECUTE
// payload (command byte included) of a statement with params parameters,
// as NormalizeArgs would have made them of go-mysql's values: nil, int64,
// uint64, float64 or []byte (temporal values as text):
//
//	command              [1]  0x17
//	statement id         [4]
//	flags                [1]
//	iteration count      [4]
//	NULL bitmap          [(n+7)/8]       only with parameters
//	new params bound     [1]
//	types                [2] per param   when new params bound is 1
//	values                               binary encoding, none for NULL
//
// A []byte argument aliases payload. ok is false, with nothing decided,
// for an execute the caller should leave to go-mysql: flags other than 0
// (a cursor), parameters whose types were never sent (new params bound
// 0: the fence fills in remembered types, so these were never bound), a
// type outside the protocol's, or a payload too short for what it
// announces.
func DecodeStmtExecuteArgs(payload []byte, params int, dst []any) (args []any, ok bool) {
	if _, ok := StmtExecuteID(payload); !ok || payload[5] != 0 {
		return dst, false
	}
	if params == 0 {
		return dst, true
	}
	pos := 10
	bitmap := pos
	pos += (params + 7) / 8
	if len(payload) < pos+1+2*params || payload[pos] != 1 {
		return dst, false
	}
	types := payload[pos+1 : pos+1+2*params]
	values := payload[pos+1+2*params:]
	at := 0
	for i := range params {
		if payload[bitmap+i/8]&(1<<(i%8)) != 0 {
			dst = append(dst, nil)
			continue
		}
		v, n, ok := decodeParam(types[2*i], types[2*i+1]&unsignedParam != 0, values[at:])
		if !ok {
			return dst, false
		}
		dst = append(dst, v)
		at += n
	}
	return dst, true
}

// decodeParam decodes one parameter value of type typ at the start of b,
// returning it and its length.
func decodeParam(typ byte, unsigned bool, b []byte) (v any, n int, ok bool) {
	switch typ {
	case mysql.MYSQL_TYPE_NULL:
		return nil, 0, true
	case mysql.MYSQL_TYPE_TINY:
		if len(b) < 1 {
			return nil, 0, false
		}
		if unsigned {
			return uint64(b[0]), 1, true
		}
		return int64(int8(b[0])), 1, true
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		if len(b) < 2 {
			return nil, 0, false
		}
		u := binary.LittleEndian.Uint16(b)
		if unsigned {
			return uint64(u), 2, true
		}
		return int64(int16(u)), 2, true
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG:
		if len(b) < 4 {
			return nil, 0, false
		}
		u := binary.LittleEndian.Uint32(b)
		if unsigned {
			return uint64(u), 4, true
		}
		return int64(int32(u)), 4, true
	case mysql.MYSQL_TYPE_LONGLONG:
		if len(b) < 8 {
			return nil, 0, false
		}
		u := binary.LittleEndian.Uint64(b)
		if unsigned {
			return u, 8, true
		}
		return int64(u), 8, true
	case mysql.MYSQL_TYPE_FLOAT:
		if len(b) < 4 {
			return nil, 0, false
		}
		// As NormalizeArgs: the float32's own shortest decimal form.
		f32 := math.Float32frombits(binary.LittleEndian.Uint32(b))
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f32), 'g', -1, 32), 64)
		return f, 4, true
	case mysql.MYSQL_TYPE_DOUBLE:
		if len(b) < 8 {
			return nil, 0, false
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), 8, true
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_BIT,
		mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET, mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB,
		mysql.MYSQL_TYPE_LONG_BLOB, mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING,
		mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_VECTOR,
		mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIME:
		if len(b) > 0 && b[0] == 0xfb {
			return nil, 1, true // a length-encoded NULL, as go-mysql reads it
		}
		size, next, ok := ReadLenEncInt(b, 0)
		if !ok || uint64(len(b)-next) < size {
			return nil, 0, false
		}
		raw := b[next : next+int(size) : next+int(size)]
		text, err := typedBytesText(mysql.TypedBytes{Type: typ, Bytes: raw})
		if err != nil {
			return nil, 0, false // go-mysql's path reports it (1835)
		}
		return text, next + int(size), true
	}
	return nil, 0, false
}
