package vindex

import (
	"errors"
	"fmt"
)

// Vindex is a named instance of a vindex type from a vschema.
type Vindex interface {
	// Name is the vschema's name for the vindex, e.g. "hash" or "user_idx".
	Name() string
	// Type is the vindex type, e.g. "hash" or "xxhash".
	Type() string
	// Cost is Vitess's cost of resolving a value: 0 for numeric, 1 for the
	// other functional types; the planner prefers cheaper vindexes.
	Cost() int
	// IsUnique reports whether a value maps to at most one keyspace id.
	IsUnique() bool
}

// Functional vindexes compute the keyspace id from the value alone.
type Functional interface {
	Vindex
	// Map returns the keyspace id of one column value: int64, uint64,
	// float64, string, []byte or nil. A value that cannot name exactly one
	// keyspace id for the vindex's column returns an error wrapping
	// ErrUnmappable, e.g. nil, a non-numeric string or a fractional float for
	// hash and numeric. A value of another Go type returns an error wrapping
	// ErrUnsupportedValue.
	Map(value any) (KeyspaceID, error)
}

var (
	// ErrUnmappable is wrapped by Map's error for a value that no row of the
	// vindex's column can be found by; callers then scatter rather than guess.
	ErrUnmappable = errors.New("vindex: value cannot be mapped")
	// ErrUnsupportedValue is wrapped by Map's error for a value of a Go type
	// Map does not take; it is a bug in the caller.
	ErrUnsupportedValue = errors.New("vindex: unsupported value type")
	// ErrUnknownType is wrapped by New's error for a type it does not know.
	ErrUnknownType = errors.New("vindex: unknown vindex type")
)

// unmappable returns the error for a value v that vindex vx cannot map.
func unmappable(vx Vindex, v any, why string) error {
	return fmt.Errorf("vindex %q (%s): cannot map %s: %s: %w", vx.Name(), vx.Type(), describe(v), why, ErrUnmappable)
}

// unsupported returns the error for a value v of a Go type vx does not take.
func unsupported(vx Vindex, v any) error {
	return fmt.Errorf("vindex %q (%s): %T: %w", vx.Name(), vx.Type(), v, ErrUnsupportedValue)
}

// describe renders a value for an error message, shortened if long.
func describe(v any) string {
	const limit = 64
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		if len(v) > limit {
			return fmt.Sprintf("string %q... (%d bytes)", v[:limit], len(v))
		}
		return fmt.Sprintf("string %q", v)
	case []byte:
		if len(v) > limit {
			return fmt.Sprintf("[]byte %q... (%d bytes)", v[:limit], len(v))
		}
		return fmt.Sprintf("[]byte %q", v)
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}
