package vindex

var _ Functional = (*Binary)(nil)

// Binary is Vitess's "binary" vindex: the keyspace id is the value's bytes as
// they are (an integer's decimal text), of any length. It is unique and
// reversible. Build it with New.
type Binary struct {
	name string
}

func newBinary(name string, _ map[string]string) (Vindex, error) {
	return &Binary{name: name}, nil
}

// Name returns the vschema name of the vindex.
func (b *Binary) Name() string { return b.name }

// Type returns "binary".
func (*Binary) Type() string { return "binary" }

// Cost returns 1, as Vitess does.
func (*Binary) Cost() int { return 1 }

// IsUnique returns true.
func (*Binary) IsUnique() bool { return true }

// Map returns the keyspace id of value, a copy of its bytes; see appendBytes
// for the values it takes.
func (b *Binary) Map(value any) (KeyspaceID, error) {
	id, kind, why := appendBytes(make(KeyspaceID, 0, valueLen(value)), value)
	if kind != valueOK {
		return nil, mapError(b, value, kind, why)
	}
	return id, nil
}

// valueLen is the capacity to reserve for the bytes of value.
func valueLen(value any) int {
	switch v := value.(type) {
	case string:
		return len(v)
	case []byte:
		return len(v)
	default:
		return 20 // the longest 64-bit integer text
	}
}
