package tablet

import (
	"encoding/binary"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Packet layouts of the client/server protocol that Conn reads itself.
// Field widths follow the protocol documentation
// (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html).

const (
	headerOK          = 0x00
	headerLocalInfile = 0xfb // also the NULL marker inside a text row
	headerEOF         = 0xfe
	headerERR         = 0xff

	// maxPayload is the largest payload of one wire packet; a packet that
	// long is continued by the next one. An OK/EOF packet is always
	// shorter, which tells it apart from a row starting with 0xfe.
	maxPayload = 0xffffff
)

// lenEncInt reads a length-encoded integer at b[pos:]: 1 byte below 0xfb,
// else 0xfc + 2 bytes, 0xfd + 3 bytes, 0xfe + 8 bytes. ok is false when b
// is too short or holds 0xfb (NULL) or 0xff there.
func lenEncInt(b []byte, pos int) (v uint64, next int, ok bool) {
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

// isEOF tells whether pkt ends a result: an EOF packet, or with
// CLIENT_DEPRECATE_EOF an OK packet with the 0xfe header. Both are shorter
// than a full wire packet, while a row starting with 0xfe (an 8-byte
// length) is longer.
func isEOF(pkt []byte) bool {
	return len(pkt) > 0 && pkt[0] == headerEOF && len(pkt) < maxPayload
}

// parseOK reads an OK packet (or, with CLIENT_DEPRECATE_EOF, the 0xfe OK
// that ends a result set) into r:
//
//	header          [1]  0x00 or 0xfe
//	affected rows   lenenc
//	last insert id  lenenc
//	status flags    [2]
//	warnings        [2]
//	info            rest (ignored)
func parseOK(pkt []byte, r *Result) error {
	var ok bool
	pos := 1
	if r.RowsAffected, pos, ok = lenEncInt(pkt, pos); !ok {
		return errMalformed
	}
	if r.InsertID, pos, ok = lenEncInt(pkt, pos); !ok {
		return errMalformed
	}
	if len(pkt)-pos < 4 {
		return errMalformed
	}
	r.Status = binary.LittleEndian.Uint16(pkt[pos:])
	r.Warnings = binary.LittleEndian.Uint16(pkt[pos+2:])
	return nil
}

// parseEOF reads a (pre-CLIENT_DEPRECATE_EOF) EOF packet:
//
//	header    [1]  0xfe
//	warnings  [2]
//	status    [2]
func parseEOF(pkt []byte, r *Result) error {
	if len(pkt) < 5 {
		return errMalformed
	}
	r.Warnings = binary.LittleEndian.Uint16(pkt[1:])
	r.Status = binary.LittleEndian.Uint16(pkt[3:])
	return nil
}

// parseERR turns an ERR packet into the error the server sent:
//
//	header        [1]  0xff
//	error code    [2]
//	'#' + state   [6]  (protocol 4.1)
//	message       rest
//
// A server that omits the SQLSTATE gets "HY000", as the MySQL client
// library reports it.
func parseERR(pkt []byte) error {
	if len(pkt) < 3 {
		return errMalformed
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

// parseTextRow splits a text-protocol row into its values, each a
// length-encoded string or 0xfb for NULL. The values alias pkt, capacity
// capped at their length. len(row) is the column count.
func parseTextRow(pkt []byte, row [][]byte) error {
	pos := 0
	for i := range row {
		if pos >= len(pkt) {
			return errMalformed
		}
		if pkt[pos] == headerLocalInfile {
			row[i] = nil
			pos++
			continue
		}
		n, p, ok := lenEncInt(pkt, pos)
		if !ok || n > uint64(len(pkt)-p) {
			return errMalformed
		}
		end := p + int(n)
		row[i] = pkt[p:end:end]
		pos = end
	}
	if pos != len(pkt) {
		return errMalformed
	}
	return nil
}
