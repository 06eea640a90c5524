package wire

import (
	"bytes"
	"encoding/binary"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Client commands. Each Append function appends one whole packet to dst
// with HeaderSize reserved bytes at the front, which the connection that
// sends it fills in.

// AppendCommand appends a command packet: [command] payload.
func AppendCommand(dst []byte, cmd byte, payload []byte) []byte {
	dst = append(dst, 0, 0, 0, 0, cmd)
	return append(dst, payload...)
}

// AppendQuery appends COM_QUERY: [0x03] query text.
func AppendQuery(dst []byte, query string) []byte {
	dst = append(dst, 0, 0, 0, 0, mysql.COM_QUERY)
	return append(dst, query...)
}

// AppendStmtExecute appends COM_STMT_EXECUTE of a statement without
// parameters:
//
//	command          [1]  0x17
//	statement id     [4]
//	flags            [1]  0 (CURSOR_TYPE_NO_CURSOR)
//	iteration count  [4]  1
func AppendStmtExecute(dst []byte, id uint32) []byte {
	dst = append(dst, 0, 0, 0, 0, mysql.COM_STMT_EXECUTE)
	dst = binary.LittleEndian.AppendUint32(dst, id)
	dst = append(dst, 0)
	return binary.LittleEndian.AppendUint32(dst, 1)
}

// AppendStmtClose appends COM_STMT_CLOSE: [0x19] statement id [32 bit].
// The server does not answer it.
func AppendStmtClose(dst []byte, id uint32) []byte {
	dst = append(dst, 0, 0, 0, 0, mysql.COM_STMT_CLOSE)
	return binary.LittleEndian.AppendUint32(dst, id)
}

// PrepareOK is the first packet of the answer to COM_STMT_PREPARE.
type PrepareOK struct {
	StmtID   uint32
	Columns  int
	Params   int
	Warnings uint16
}

// ParsePrepareOK reads COM_STMT_PREPARE's answer (an ERR packet is the
// caller's to read first):
//
//	status          [1]  0x00
//	statement id    [4]
//	num columns     [2]
//	num params      [2]
//	filler          [1]
//	warnings        [2]
//
// then num params definitions [EOF], num columns definitions [EOF] (the EOFs
// only without CLIENT_DEPRECATE_EOF).
func ParsePrepareOK(pkt []byte) (PrepareOK, error) {
	if len(pkt) < 12 || pkt[0] != HeaderOK {
		return PrepareOK{}, ErrMalformed
	}
	return PrepareOK{
		StmtID:   binary.LittleEndian.Uint32(pkt[1:]),
		Columns:  int(binary.LittleEndian.Uint16(pkt[5:])),
		Params:   int(binary.LittleEndian.Uint16(pkt[7:])),
		Warnings: binary.LittleEndian.Uint16(pkt[10:]),
	}, nil
}

// ChangeUser is what COM_CHANGE_USER carries.
type ChangeUser struct {
	User         string
	AuthResponse []byte
	DB           string
	// Collation is the client's collation id, when it sent one.
	Collation    uint8
	HasCollation bool
}

// ParseChangeUser reads a COM_CHANGE_USER payload (after the command
// byte):
//
//	user             string[NUL]
//	auth response    length [1] + bytes (CLIENT_SECURE_CONNECTION)
//	database         string[NUL]
//	charset          [2]          (optional)
//	auth plugin      string[NUL]  (CLIENT_PLUGIN_AUTH, ignored)
//	attributes                    (CLIENT_CONNECT_ATTRS, ignored)
//
// A payload too short for the user and auth response is
// mysql.ErrMalformPacket, as go-mysql reports its own.
func ParseChangeUser(data []byte) (ChangeUser, error) {
	user, rest, ok := bytes.Cut(data, []byte{0})
	if !ok {
		return ChangeUser{}, mysql.ErrMalformPacket
	}
	if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
		return ChangeUser{}, mysql.ErrMalformPacket
	}
	cu := ChangeUser{User: string(user), AuthResponse: rest[1 : 1+int(rest[0])]}
	rest = rest[1+int(rest[0]):]
	db, rest, _ := bytes.Cut(rest, []byte{0})
	cu.DB = string(db)
	if len(rest) >= 2 {
		// charset [2]: the collation id, as in the handshake.
		cu.Collation, cu.HasCollation = rest[0], true
	}
	return cu, nil
}

// AppendAuthSwitch appends an auth switch request: [0xfe] plugin
// name[NUL] salt[NUL].
func AppendAuthSwitch(dst []byte, plugin string, salt []byte) []byte {
	dst = append(dst, HeaderEOF)
	dst = append(dst, plugin...)
	dst = append(dst, 0)
	dst = append(dst, salt...)
	return append(dst, 0)
}

// AppendStmtPrepare appends COM_STMT_PREPARE: [0x16] query text.
func AppendStmtPrepare(dst []byte, query string) []byte {
	dst = append(dst, 0, 0, 0, 0, mysql.COM_STMT_PREPARE)
	return append(dst, query...)
}
