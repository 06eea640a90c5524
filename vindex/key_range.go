package vindex

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// ErrInvalidKeyRange is wrapped by the errors of ParseKeyRange and
// SplitKeyRange.
var ErrInvalidKeyRange = errors.New("vindex: invalid key range")

// KeyRange is the half-open interval [Start, End) of keyspace ids, compared
// bytewise. An empty Start is unbounded below and an empty End unbounded
// above; the zero KeyRange is the whole keyspace.
type KeyRange struct {
	Start, End []byte
}

// MaxSplit is the largest shard count SplitKeyRange accepts.
const MaxSplit = 1 << 16

// ParseKeyRange parses a Vitess shard name: "-80", "80-", "40-80", or "-" for
// the whole keyspace. The empty string and "0" (Vitess's name for the single
// shard of an unsharded keyspace) also mean the whole keyspace. Hex digits may
// be of either case. Odd-length or non-hex bounds, more than one '-', and a
// start that is not below the end are errors wrapping ErrInvalidKeyRange.
func ParseKeyRange(s string) (KeyRange, error) {
	if s == "" || s == "0" {
		return KeyRange{}, nil
	}
	start, end, ok := strings.Cut(s, "-")
	if !ok {
		return KeyRange{}, fmt.Errorf("%w %q: want START-END in hex, e.g. \"40-80\"", ErrInvalidKeyRange, s)
	}
	if strings.Contains(end, "-") {
		return KeyRange{}, fmt.Errorf("%w %q: more than one '-'", ErrInvalidKeyRange, s)
	}
	var r KeyRange
	var err error
	if r.Start, err = parseBound(start); err != nil {
		return KeyRange{}, fmt.Errorf("%w %q: start: %v", ErrInvalidKeyRange, s, err)
	}
	if r.End, err = parseBound(end); err != nil {
		return KeyRange{}, fmt.Errorf("%w %q: end: %v", ErrInvalidKeyRange, s, err)
	}
	if len(r.Start) > 0 && len(r.End) > 0 && bytes.Compare(r.Start, r.End) >= 0 {
		return KeyRange{}, fmt.Errorf("%w %q: start is not below end", ErrInvalidKeyRange, s)
	}
	return r, nil
}

// parseBound decodes one hex bound; the empty bound is nil (unbounded).
func parseBound(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return hex.DecodeString(s)
}

// String returns r as a Vitess shard name: "-80", "80-", "40-80", or "-" for
// the whole keyspace.
func (r KeyRange) String() string {
	return hex.EncodeToString(r.Start) + "-" + hex.EncodeToString(r.End)
}

// Contains reports whether id lies in r: Start <= id < End.
func (r KeyRange) Contains(id KeyspaceID) bool {
	return bytes.Compare(r.Start, id) <= 0 &&
		(len(r.End) == 0 || bytes.Compare(id, r.End) < 0)
}

// Intersects reports whether some keyspace id lies in both r and o.
func (r KeyRange) Intersects(o KeyRange) bool {
	return (len(r.End) == 0 || bytes.Compare(o.Start, r.End) < 0) &&
		(len(o.End) == 0 || bytes.Compare(r.Start, o.End) < 0)
}

// IsFull reports whether r is the whole keyspace.
func (r KeyRange) IsFull() bool {
	return len(r.Start) == 0 && len(r.End) == 0
}

// SplitKeyRange splits the whole keyspace into n shards of equal width, in
// order, for n in 1..MaxSplit. Boundary i is floor(i*2^64/n) as 8 bytes
// big-endian, with the trailing bytes that are zero in every boundary trimmed
// so that all names have one width, as Vitess names its shards: 2 gives -80,
// 80-; 4 gives -40, 40-80, 80-c0, c0-; 512 gives -0080, 0080-0100, ...; 3
// gives -5555555555555555, 5555555555555555-aaaaaaaaaaaaaaaa,
// aaaaaaaaaaaaaaaa-.
func SplitKeyRange(n int) ([]KeyRange, error) {
	if n < 1 || n > MaxSplit {
		return nil, fmt.Errorf("%w: cannot split into %d shards, want 1..%d", ErrInvalidKeyRange, n, MaxSplit)
	}
	bounds := make([]uint64, n) // bounds[0] is the unbounded start
	width := 0
	for i := 1; i < n; i++ {
		// i < n, so the 128-bit quotient i*2^64/n fits in 64 bits.
		q, _ := bits.Div64(uint64(i), 0, uint64(n))
		bounds[i] = q
		width = max(width, 8-bits.TrailingZeros64(q)/8)
	}
	bound := func(i int) []byte {
		if i == 0 || i == n {
			return nil
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], bounds[i])
		return bytes.Clone(b[:width])
	}
	out := make([]KeyRange, n)
	for i := range out {
		out[i] = KeyRange{Start: bound(i), End: bound(i + 1)}
	}
	return out, nil
}
