package wire

import (
	"bytes"
	"encoding/binary"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// WellFormedHandshakeResponse reports whether a client's first packet
// (its payload) is a HandshakeResponse41 whose fields all end inside it,
// or an SSLRequest (its first 32 bytes alone). go-mysql v1.16 decodes the
// fields without checking some lengths and panics on a response whose
// auth data runs past the end (found by FuzzHandshakeResponse); the
// gateway checks the packet first and closes the connection instead.
//
//	capability flags [4] max packet [4] charset [1] filler [23]
//	user             NUL-terminated
//	auth data        length-encoded (PLUGIN_AUTH_LENENC_CLIENT_DATA) or [1] length, data
//	database         NUL-terminated (CONNECT_WITH_DB; may be absent at the end)
//	auth plugin      NUL-terminated (PLUGIN_AUTH)
//	attributes       length-encoded size, then length-encoded strings (CONNECT_ATTRS)
func WellFormedHandshakeResponse(p []byte) bool {
	if len(p) < 32 {
		return false
	}
	caps := binary.LittleEndian.Uint32(p)
	if caps&mysql.CLIENT_PROTOCOL_41 == 0 || caps&mysql.CLIENT_SECURE_CONNECTION == 0 {
		return false
	}
	if len(p) == 32 {
		return true // SSLRequest
	}
	pos := 32
	nulTerminated := func() bool {
		i := bytes.IndexByte(p[pos:], 0)
		if i < 0 {
			return false
		}
		pos += i + 1
		return true
	}
	if !nulTerminated() { // user
		return false
	}
	if caps&mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
		n, next, ok := ReadLenEncInt(p, pos)
		if !ok || n > uint64(len(p)-next) {
			return false
		}
		pos = next + int(n)
	} else {
		if pos >= len(p) || int(p[pos]) > len(p)-pos-1 {
			return false
		}
		pos += 1 + int(p[pos])
	}
	if caps&mysql.CLIENT_CONNECT_WITH_DB != 0 && pos < len(p) && !nulTerminated() {
		return false
	}
	if caps&mysql.CLIENT_PLUGIN_AUTH != 0 && !nulTerminated() {
		return false
	}
	if caps&mysql.CLIENT_CONNECT_ATTRS != 0 {
		n, next, ok := ReadLenEncInt(p, pos)
		if !ok || n > uint64(len(p)-next) {
			return false
		}
		// go-mysql reads key and value strings to the end of the packet
		// (not of the announced size), and panicked on a length prefix
		// cut short there (FuzzHandshakeResponse/582528ddfad69eb5).
		for pos = next; pos < len(p) && p[pos] != 0xfb; {
			n, next, ok := ReadLenEncInt(p, pos)
			if !ok || n > uint64(len(p)-next) {
				return false
			}
			pos = next + int(n)
		}
	}
	return true
}
