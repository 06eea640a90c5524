package vindex

import (
	"bytes"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

var _ Functional = (*UnicodeLooseXXHash)(nil)

// UnicodeLooseXXHash is Vitess's "unicode_loose_xxhash" vindex, for string
// columns compared case- and accent-insensitively: trailing spaces are
// removed (MySQL's PAD SPACE), the text becomes its collation key for English
// at Loose strength (case, accents and width ignored; UCA level 1), and the
// key is hashed with xxHash64, written as 8 bytes little-endian. "ABC",
// "abc", "abc " and "Ábc" map to one keyspace id. It is unique. Build it with
// New.
type UnicodeLooseXXHash struct {
	name string
	// collators holds *looseCollator: a collate.Collator keeps per-call state
	// and is not safe for concurrent use, so each Map borrows one.
	collators sync.Pool
}

// looseCollator pairs a collator with the buffer its keys are built in.
type looseCollator struct {
	col *collate.Collator
	buf collate.Buffer
}

func newUnicodeLooseXXHash(name string, _ map[string]string) (Vindex, error) {
	u := &UnicodeLooseXXHash{name: name}
	u.collators.New = func() any {
		// Vitess chose English: level 1 weights are the same in every locale
		// that does not reorder letters, and English reorders none.
		return &looseCollator{col: collate.New(language.English, collate.Loose)}
	}
	return u, nil
}

// Name returns the vschema name of the vindex.
func (u *UnicodeLooseXXHash) Name() string { return u.name }

// Type returns "unicode_loose_xxhash".
func (*UnicodeLooseXXHash) Type() string { return "unicode_loose_xxhash" }

// Cost returns 1, as Vitess does.
func (*UnicodeLooseXXHash) Cost() int { return 1 }

// IsUnique returns true.
func (*UnicodeLooseXXHash) IsUnique() bool { return true }

// Map returns the keyspace id of value; see appendBytes for the values it
// takes. Text that is not valid UTF-8 is unmappable.
func (u *UnicodeLooseXXHash) Map(value any) (KeyspaceID, error) {
	c := u.collators.Get().(*looseCollator)
	defer u.collators.Put(c)
	c.buf.Reset()

	var key []byte
	switch v := value.(type) {
	case string:
		if !utf8.ValidString(v) {
			return nil, unmappable(u, value, "not valid UTF-8")
		}
		key = c.col.KeyFromString(&c.buf, strings.TrimRight(v, " "))
	default:
		var scratch [24]byte
		b, kind, why := appendBytes(scratch[:0], value)
		if kind != valueOK {
			return nil, mapError(u, value, kind, why)
		}
		if !utf8.Valid(b) {
			return nil, unmappable(u, value, "not valid UTF-8")
		}
		key = c.col.Key(&c.buf, bytes.TrimRight(b, " "))
	}
	return xxhashID(xxhash.Sum64(key)), nil
}
