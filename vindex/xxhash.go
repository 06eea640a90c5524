package vindex

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

var _ Functional = (*XXHash)(nil)

// XXHash is Vitess's "xxhash" vindex: xxHash64 of the value's bytes (an
// integer's decimal text), written as 8 bytes little-endian. It is unique.
// Build it with New.
type XXHash struct {
	name string
}

func newXXHash(name string, _ map[string]string) (Vindex, error) {
	return &XXHash{name: name}, nil
}

// Name returns the vschema name of the vindex.
func (x *XXHash) Name() string { return x.name }

// Type returns "xxhash".
func (*XXHash) Type() string { return "xxhash" }

// Cost returns 1, as Vitess does.
func (*XXHash) Cost() int { return 1 }

// IsUnique returns true.
func (*XXHash) IsUnique() bool { return true }

// Map returns the keyspace id of value; see appendBytes for the values it
// takes.
func (x *XXHash) Map(value any) (KeyspaceID, error) {
	var sum uint64
	if s, ok := value.(string); ok {
		sum = xxhash.Sum64String(s)
	} else {
		var scratch [24]byte // an integer's text fits; longer []byte grows
		b, kind, why := appendBytes(scratch[:0], value)
		if kind != valueOK {
			return nil, mapError(x, value, kind, why)
		}
		sum = xxhash.Sum64(b)
	}
	return xxhashID(sum), nil
}

// xxhashID writes an xxHash64 sum as a keyspace id, little-endian as Vitess.
func xxhashID(sum uint64) KeyspaceID {
	id := make(KeyspaceID, 8)
	binary.LittleEndian.PutUint64(id, sum)
	return id
}
