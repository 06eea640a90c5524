package vindex

import "encoding/binary"

var _ Functional = (*Numeric)(nil)

// Numeric is Vitess's "numeric" vindex: the value as a uint64, 8 bytes
// big-endian, so keyspace ids keep the values' order. It is unique and
// reversible. Build it with New.
type Numeric struct {
	name string
}

func newNumeric(name string, _ map[string]string) (Vindex, error) {
	return &Numeric{name: name}, nil
}

// Name returns the vschema name of the vindex.
func (n *Numeric) Name() string { return n.name }

// Type returns "numeric".
func (*Numeric) Type() string { return "numeric" }

// Cost returns 0, as Vitess does: the mapping is the identity.
func (*Numeric) Cost() int { return 0 }

// IsUnique returns true.
func (*Numeric) IsUnique() bool { return true }

// Map returns the keyspace id of value; see toUint64 for the values it takes.
func (n *Numeric) Map(value any) (KeyspaceID, error) {
	u, kind, why := toUint64(value)
	if kind != valueOK {
		return nil, mapError(n, value, kind, why)
	}
	id := make(KeyspaceID, 8)
	binary.BigEndian.PutUint64(id, u)
	return id, nil
}
