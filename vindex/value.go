package vindex

import (
	"math"
	"strconv"
)

// valueKind classifies what a Map value converted to.
type valueKind int

const (
	valueOK          valueKind = iota
	valueUnmappable            // a supported type that names no single keyspace id
	valueUnsupported           // a Go type Map does not take
)

// maxExactFloat is 2^53: below it in magnitude, an integral float64 equals
// exactly one integer, and MySQL's comparison of an integer column with that
// double matches only the row holding that integer.
const maxExactFloat = 1 << 53

// toUint64 converts a value to the uint64 that hash and numeric map: an
// int64 as its two's complement, a uint64 as it is, a string or []byte parsed
// as a base-10 integer (signed or unsigned), an integral float64 below 2^53 in
// magnitude. On failure, why says what is wrong.
func toUint64(v any) (n uint64, kind valueKind, why string) {
	switch v := v.(type) {
	case int64:
		return uint64(v), valueOK, ""
	case uint64:
		return v, valueOK, ""
	case int:
		return uint64(int64(v)), valueOK, ""
	case int32:
		return uint64(int64(v)), valueOK, ""
	case int16:
		return uint64(int64(v)), valueOK, ""
	case int8:
		return uint64(int64(v)), valueOK, ""
	case uint:
		return uint64(v), valueOK, ""
	case uint32:
		return uint64(v), valueOK, ""
	case uint16:
		return uint64(v), valueOK, ""
	case uint8:
		return uint64(v), valueOK, ""
	case float64:
		return floatToUint64(v)
	case float32:
		return floatToUint64(float64(v))
	case string:
		return parseUint64(v)
	case []byte:
		return parseUint64(string(v))
	case nil:
		return 0, valueUnmappable, "NULL equals no row"
	default:
		return 0, valueUnsupported, ""
	}
}

func floatToUint64(f float64) (uint64, valueKind, string) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, valueUnmappable, "not a finite number"
	case f != math.Trunc(f):
		return 0, valueUnmappable, "not an integer"
	case math.Abs(f) >= maxExactFloat:
		return 0, valueUnmappable, "beyond 2^53, where a double matches more than one integer"
	}
	return uint64(int64(f)), valueOK, ""
}

func parseUint64(s string) (uint64, valueKind, string) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return uint64(i), valueOK, ""
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, valueOK, ""
	}
	return 0, valueUnmappable, "not a base-10 64-bit integer"
}

// appendBytes appends the bytes the byte-based vindexes (xxhash, binary,
// unicode_loose_xxhash) map, as Vitess's sqltypes.Value.ToBytes gives them: a
// string or []byte as it is, an integer as its decimal text. Floats are
// unmappable: the same number has many texts ("1", "1.0", "1e0").
func appendBytes(dst []byte, v any) ([]byte, valueKind, string) {
	switch v := v.(type) {
	case string:
		return append(dst, v...), valueOK, ""
	case []byte:
		return append(dst, v...), valueOK, ""
	case int64:
		return strconv.AppendInt(dst, v, 10), valueOK, ""
	case uint64:
		return strconv.AppendUint(dst, v, 10), valueOK, ""
	case int:
		return strconv.AppendInt(dst, int64(v), 10), valueOK, ""
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), valueOK, ""
	case int16:
		return strconv.AppendInt(dst, int64(v), 10), valueOK, ""
	case int8:
		return strconv.AppendInt(dst, int64(v), 10), valueOK, ""
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), valueOK, ""
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), valueOK, ""
	case uint16:
		return strconv.AppendUint(dst, uint64(v), 10), valueOK, ""
	case uint8:
		return strconv.AppendUint(dst, uint64(v), 10), valueOK, ""
	case float64, float32:
		return dst, valueUnmappable, "a float's text form in the column is ambiguous"
	case nil:
		return dst, valueUnmappable, "NULL equals no row"
	default:
		return dst, valueUnsupported, ""
	}
}

// mapError turns a failed conversion into Map's error.
func mapError(vx Vindex, v any, kind valueKind, why string) error {
	if kind == valueUnsupported {
		return unsupported(vx, v)
	}
	return unmappable(vx, v, why)
}
