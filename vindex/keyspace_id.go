package vindex

import "encoding/hex"

// KeyspaceID is the id a row maps to: 8 bytes for the hash-like vindexes, any
// length for binary ones. Keyspace ids are ordered bytewise.
type KeyspaceID []byte

// String returns id in lower-case hex, e.g. "166b40b44aba4bd6".
func (id KeyspaceID) String() string {
	return hex.EncodeToString(id)
}
