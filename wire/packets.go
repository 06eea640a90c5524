package wire

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Packet headers and sizes of the client/server protocol.
const (
	// HeaderSize is the packet header: payload length [24 bit] sequence
	// [8 bit]. Packets are built with it reserved at the front; the
	// connection that sends them fills it in.
	HeaderSize = 4

	HeaderOK          = 0x00
	HeaderLocalInfile = 0xfb // also the NULL marker inside a text row
	HeaderEOF         = 0xfe
	HeaderERR         = 0xff

	// MaxPayload is the largest payload of one packet; a packet that long
	// is continued by the next one. An OK/EOF packet is always shorter,
	// which tells it apart from a row starting with 0xfe.
	MaxPayload = 0xffffff
)

// ErrMalformed: a packet does not have the layout its header announces.
var ErrMalformed = errors.New("malformed packet")

// ReadLenEncInt reads a length-encoded integer at b[pos:]: 1 byte below
// 0xfb, else 0xfc + 2 bytes, 0xfd + 3 bytes, 0xfe + 8 bytes. ok is false
// when b is too short or holds 0xfb (NULL) or 0xff there.
func ReadLenEncInt(b []byte, pos int) (v uint64, next int, ok bool) {
	if pos >= len(b) {
		return 0, pos, false
	}
	switch c := b[pos]; {
	case c < 0xfb:
		return uint64(c), pos + 1, true
	case c == 0xfc:
		if len(b)-pos < 3 {
			return 0, pos, false
		}
		return uint64(b[pos+1]) | uint64(b[pos+2])<<8, pos + 3, true
	case c == 0xfd:
		if len(b)-pos < 4 {
			return 0, pos, false
		}
		return uint64(b[pos+1]) | uint64(b[pos+2])<<8 | uint64(b[pos+3])<<16, pos + 4, true
	case c == 0xfe:
		if len(b)-pos < 9 {
			return 0, pos, false
		}
		return binary.LittleEndian.Uint64(b[pos+1:]), pos + 9, true
	}
	return 0, pos, false
}

// AppendLenEncInt appends v as a length-encoded integer.
func AppendLenEncInt(b []byte, v uint64) []byte {
	return mysql.AppendLengthEncodedInteger(b, v)
}

// OK is what an OK packet (or the EOF packet that ends a result set)
// reports.
type OK struct {
	AffectedRows uint64
	InsertID     uint64
	// Status holds SERVER_STATUS_* flags.
	Status   uint16
	Warnings uint16
	// Matched is an UPDATE's "Rows matched: N" from the info text, when
	// HasMatched: what a client with CLIENT_FOUND_ROWS is told instead of
	// the rows changed.
	Matched    uint64
	HasMatched bool
}

// IsEOF tells whether pkt ends a result: an EOF packet, or with
// CLIENT_DEPRECATE_EOF an OK packet with the 0xfe header. Both are shorter
// than a full wire packet, while a row starting with 0xfe (an 8-byte
// length) is longer.
func IsEOF(pkt []byte) bool {
	return len(pkt) > 0 && pkt[0] == HeaderEOF && len(pkt) < MaxPayload
}

// ParseOK reads an OK packet (or, with CLIENT_DEPRECATE_EOF, the 0xfe OK
// that ends a result set):
//
//	header          [1]  0x00 or 0xfe
//	affected rows   lenenc
//	last insert id  lenenc
//	status flags    [2]
//	warnings        [2]
//	info            lenenc string: only "Rows matched: N ..." is read
func ParseOK(pkt []byte) (OK, error) {
	var r OK
	var ok bool
	pos := 1
	if r.AffectedRows, pos, ok = ReadLenEncInt(pkt, pos); !ok {
		return OK{}, ErrMalformed
	}
	if r.InsertID, pos, ok = ReadLenEncInt(pkt, pos); !ok {
		return OK{}, ErrMalformed
	}
	if len(pkt)-pos < 4 {
		return OK{}, ErrMalformed
	}
	r.Status = binary.LittleEndian.Uint16(pkt[pos:])
	r.Warnings = binary.LittleEndian.Uint16(pkt[pos+2:])
	r.Matched, r.HasMatched = rowsMatched(pkt[pos+4:])
	return r, nil
}

// rowsMatched reads N from an info of "Rows matched: N  Changed: ...".
func rowsMatched(info []byte) (uint64, bool) {
	n, pos, ok := ReadLenEncInt(info, 0)
	if !ok || uint64(len(info)-pos) < n {
		return 0, false
	}
	text, ok := bytes.CutPrefix(info[pos:pos+int(n)], []byte("Rows matched: "))
	if !ok {
		return 0, false
	}
	var v uint64
	digits := 0
	for _, c := range text {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + uint64(c-'0')
		digits++
	}
	return v, digits > 0
}

// AppendOK appends an OK packet: [0x00] affected_rows [lenenc]
// last_insert_id [lenenc] status_flags [16 bit] warnings [16 bit] info
// [lenenc]. The info is left out when it is empty, unless the client has
// CLIENT_SESSION_TRACK. (The protocol documentation gives the info
// without CLIENT_SESSION_TRACK as the rest of the packet, but MariaDB and
// MySQL both length-encode it: testdata's ok_update_info.)
func AppendOK(data []byte, r OK, info string, sessionTrack bool) []byte {
	data = append(data, HeaderOK)
	data = AppendLenEncInt(data, r.AffectedRows)
	data = AppendLenEncInt(data, r.InsertID)
	data = append(data, byte(r.Status), byte(r.Status>>8), byte(r.Warnings), byte(r.Warnings>>8))
	if sessionTrack || info != "" {
		data = AppendLenEncInt(data, uint64(len(info)))
	}
	return append(data, info...)
}

// ParseEOF reads a (pre-CLIENT_DEPRECATE_EOF) EOF packet:
//
//	header    [1]  0xfe
//	warnings  [2]
//	status    [2]
func ParseEOF(pkt []byte) (OK, error) {
	if len(pkt) < 5 {
		return OK{}, ErrMalformed
	}
	return OK{Warnings: binary.LittleEndian.Uint16(pkt[1:]), Status: binary.LittleEndian.Uint16(pkt[3:])}, nil
}

// AppendEOF appends an EOF packet: [0xfe] warnings [16 bit] status_flags
// [16 bit].
func AppendEOF(data []byte, status, warnings uint16) []byte {
	return append(data, HeaderEOF, byte(warnings), byte(warnings>>8), byte(status), byte(status>>8))
}

// ParseERR turns an ERR packet into the error the server sent:
//
//	header        [1]  0xff
//	error code    [2]
//	'#' + state   [6]  (protocol 4.1)
//	message       rest
//
// A server that omits the SQLSTATE gets "HY000", as the MySQL client
// library reports it. A packet too short to be an ERR is ErrMalformed.
func ParseERR(pkt []byte) error {
	if len(pkt) < 3 {
		return ErrMalformed
	}
	e := &mysql.MyError{Code: binary.LittleEndian.Uint16(pkt[1:]), State: mysql.DEFAULT_MYSQL_STATE}
	pos := 3
	if len(pkt) >= 9 && pkt[3] == '#' {
		e.State = string(pkt[4:9])
		pos = 9
	}
	e.Message = string(pkt[pos:])
	return e
}

// AppendERR appends an ERR packet: [0xff] error_code [16 bit] '#'
// sql_state [5] message. A state that is not 5 characters is sent as
// HY000.
func AppendERR(data []byte, e *mysql.MyError) []byte {
	data = append(data, HeaderERR, byte(e.Code), byte(e.Code>>8), '#')
	state := e.State
	if len(state) != 5 {
		state = "HY000"
	}
	data = append(data, state...)
	return append(data, e.Message...)
}
