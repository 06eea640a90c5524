package vindex

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"
)

func TestTypes(t *testing.T) {
	got := Types()
	want := []string{"binary", "consistent_lookup", "consistent_lookup_unique", "hash", "lookup", "lookup_unique", "numeric", "unicode_loose_xxhash", "xxhash"}
	if !slices.Equal(got, want) {
		t.Errorf("Types(): got %q, want %q", got, want)
	}
	got[0] = "changed"
	if Types()[0] != "binary" {
		t.Errorf("Types() after changing a returned slice: got %q, want it unchanged", Types())
	}
}

func TestNew(t *testing.T) {
	cases := []struct {
		typ  string
		cost int
	}{
		{"binary", 1},
		{"hash", 1},
		{"numeric", 0},
		{"unicode_loose_xxhash", 1},
		{"xxhash", 1},
	}
	for _, c := range cases {
		for _, params := range []map[string]string{nil, {}, {"hello": "world", "table": "t"}} {
			vx, err := New(c.typ, "user_idx", params)
			if err != nil {
				t.Fatalf("New(%q, %q, %v): %v", c.typ, "user_idx", params, err)
			}
			if got := vx.Name(); got != "user_idx" {
				t.Errorf("New(%q).Name(): got %q, want %q", c.typ, got, "user_idx")
			}
			if got := vx.Type(); got != c.typ {
				t.Errorf("New(%q).Type(): got %q, want %q", c.typ, got, c.typ)
			}
			if got := vx.Cost(); got != c.cost {
				t.Errorf("New(%q).Cost(): got %d, want %d", c.typ, got, c.cost)
			}
			if !vx.IsUnique() {
				t.Errorf("New(%q).IsUnique(): got false, want true", c.typ)
			}
			if _, ok := vx.(Functional); !ok {
				t.Errorf("New(%q): got %T, want a Functional vindex", c.typ, vx)
			}
		}
	}
}

func TestNewUnknownType(t *testing.T) {
	for _, typ := range []string{"hsh", "", "Hash", "lookup_hash"} {
		vx, err := New(typ, "idx", nil)
		if !errors.Is(err, ErrUnknownType) {
			t.Errorf("New(%q): got %v, %v, want error wrapping ErrUnknownType", typ, vx, err)
			continue
		}
		if typ == "hsh" {
			if got, want := err.Error(), `vindex: unknown vindex type "hsh"`; got != want {
				t.Errorf("New(%q): got error %q, want %q", typ, got, want)
			}
		}
	}
}

// TestMapUnsupportedValue checks that Go types Map does not take are
// reported as the caller's bug, not as unmappable values.
func TestMapUnsupportedValue(t *testing.T) {
	for _, typ := range functionalTypes() {
		vx := mustNew(t, typ)
		for _, v := range []any{true, struct{}{}, []int{1}, complex(1, 2), &struct{}{}, map[string]int{}} {
			id, err := vx.Map(v)
			if !errors.Is(err, ErrUnsupportedValue) || errors.Is(err, ErrUnmappable) {
				t.Errorf("%s Map(%T %v): got %v, %v, want error wrapping ErrUnsupportedValue only", typ, v, v, id, err)
			}
		}
	}
}

// TestMapErrorNamesInput checks that Map's errors say which vindex and value.
func TestMapErrorNamesInput(t *testing.T) {
	vx := mustNew(t, "hash")
	_, err := vx.Map("abc")
	if got, want := err.Error(), `vindex "hash_idx" (hash): cannot map string "abc": not a base-10 64-bit integer: vindex: value cannot be mapped`; got != want {
		t.Errorf(`hash Map("abc"): got error %q, want %q`, got, want)
	}
}

// TestMapOddValues maps awkward values through every type: no panics, errors
// only of the documented kinds, and the same answer twice.
func TestMapOddValues(t *testing.T) {
	for _, typ := range functionalTypes() {
		vx := mustNew(t, typ)
		for _, v := range oddValues {
			checkMapContract(t, vx, v)
		}
	}
}

func checkMapContract(t *testing.T, vx Functional, v any) {
	t.Helper()
	id, err := vx.Map(v)
	if err != nil {
		if !errors.Is(err, ErrUnmappable) && !errors.Is(err, ErrUnsupportedValue) {
			t.Fatalf("%s Map(%T %#v): got error %v, want ErrUnmappable or ErrUnsupportedValue", vx.Type(), v, v, err)
		}
		if id != nil {
			t.Fatalf("%s Map(%T %#v): got %s with error %v, want nil", vx.Type(), v, v, id, err)
		}
		return
	}
	if vx.Type() != "binary" && len(id) != 8 {
		t.Fatalf("%s Map(%T %#v): got %d bytes, want 8", vx.Type(), v, v, len(id))
	}
	again, err := vx.Map(v)
	if err != nil || !bytes.Equal(again, id) {
		t.Fatalf("%s Map(%T %#v) twice: got %s then %s, %v", vx.Type(), v, v, id, again, err)
	}
}

func FuzzMap(f *testing.F) {
	f.Add(uint8(0), int64(1), uint64(1), 1.0, "1", []byte("1"))
	f.Add(uint8(3), int64(-1), uint64(math.MaxUint64), math.NaN(), "Tést ", []byte{0xff})
	f.Add(uint8(4), int64(math.MinInt64), uint64(1<<63), 1.5, "\xc3", []byte(" abc"))
	f.Fuzz(func(t *testing.T, kind uint8, i int64, u uint64, fl float64, s string, b []byte) {
		var v any
		switch kind % 7 {
		case 0:
			v = i
		case 1:
			v = u
		case 2:
			v = fl
		case 3:
			v = s
		case 4:
			v = b
		case 5:
			v = nil
		case 6:
			v = int32(i)
		}
		for _, typ := range functionalTypes() {
			checkMapContract(t, mustNew(t, typ), v)
		}
	})
}
