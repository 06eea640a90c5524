package vindex

import (
	"crypto/cipher"
	"crypto/des"
	"encoding/binary"
	"fmt"
)

var _ Functional = (*Hash)(nil)

// Hash is Vitess's "hash" vindex: the value as a uint64, 8 bytes big-endian,
// encrypted as one DES block under the all-zero key. It is unique and
// reversible (DES is a permutation of 64-bit blocks). Build it with New.
type Hash struct {
	name  string
	block cipher.Block // DES with the all-zero key; safe for concurrent use
}

func newHash(name string, _ map[string]string) (Vindex, error) {
	block, err := des.NewCipher(make([]byte, des.BlockSize))
	if err != nil {
		return nil, fmt.Errorf("vindex %q (hash): %w", name, err)
	}
	return &Hash{name: name, block: block}, nil
}

// Name returns the vschema name of the vindex.
func (h *Hash) Name() string { return h.name }

// Type returns "hash".
func (*Hash) Type() string { return "hash" }

// Cost returns 1, as Vitess does.
func (*Hash) Cost() int { return 1 }

// IsUnique returns true.
func (*Hash) IsUnique() bool { return true }

// Map returns the keyspace id of value; see toUint64 for the values it takes.
func (h *Hash) Map(value any) (KeyspaceID, error) {
	n, kind, why := toUint64(value)
	if kind != valueOK {
		return nil, mapError(h, value, kind, why)
	}
	// One allocation: the plain block in the upper half, the keyspace id in
	// the lower (a separate [8]byte would escape through cipher.Block).
	buf := make([]byte, 2*des.BlockSize)
	binary.BigEndian.PutUint64(buf[des.BlockSize:], n)
	h.block.Encrypt(buf[:des.BlockSize], buf[des.BlockSize:])
	return KeyspaceID(buf[:des.BlockSize:des.BlockSize]), nil
}
