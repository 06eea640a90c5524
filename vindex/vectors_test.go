package vindex

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the keyspace ids in testdata/<type>.json from the current mappings")

// vector is one case of testdata/<type>.json. Type and Value are the input,
// edited by hand; KeyspaceID or Unmappable is the output, rewritten by
// go test ./vindex -update.
type vector struct {
	Type       string `json:"type"`        // int64, uint64, float64, string, bytes (Value in hex) or null
	Value      string `json:"value"`       // the value's text
	KeyspaceID string `json:"keyspace_id"` // in hex; "" if unmappable
	Unmappable bool   `json:"unmappable,omitempty"`
}

// value decodes the Go value Map is given.
func (v vector) value() (any, error) {
	switch v.Type {
	case "int64":
		return strconv.ParseInt(v.Value, 10, 64)
	case "uint64":
		return strconv.ParseUint(v.Value, 10, 64)
	case "float64":
		return strconv.ParseFloat(v.Value, 64)
	case "string":
		return v.Value, nil
	case "bytes":
		return hex.DecodeString(v.Value)
	case "null":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown vector type %q", v.Type)
}

func (v vector) String() string {
	if v.Type == "null" {
		return "null"
	}
	return fmt.Sprintf("%s(%q)", v.Type, v.Value)
}

// TestVectors checks every functional vindex type against
// testdata/<type>.json; with -update it rewrites the outputs there instead.
// (Lookup types map through their table; the gateway's tests cover them.)
func TestVectors(t *testing.T) {
	for _, typ := range functionalTypes() {
		t.Run(typ, func(t *testing.T) {
			path := filepath.Join("testdata", typ+".json")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("every vindex type needs test vectors: %v", err)
			}
			var vectors []vector
			if err := json.Unmarshal(data, &vectors); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if len(vectors) == 0 {
				t.Fatalf("%s: no vectors", path)
			}
			vx := mustNew(t, typ)
			for i, v := range vectors {
				in, err := v.value()
				if err != nil {
					t.Fatalf("%s[%d] %v: %v", path, i, v, err)
				}
				id, err := vx.Map(in)
				if err != nil && !errors.Is(err, ErrUnmappable) {
					t.Fatalf("%s[%d] Map(%v): %v", path, i, v, err)
				}
				got := vector{Type: v.Type, Value: v.Value, Unmappable: err != nil}
				if err == nil {
					got.KeyspaceID = id.String()
				}
				if *update {
					vectors[i] = got
					continue
				}
				if got != v {
					t.Errorf("%s[%d] Map(%v): got keyspace id %q unmappable %v, want %q unmappable %v",
						path, i, v, got.KeyspaceID, got.Unmappable, v.KeyspaceID, v.Unmappable)
				}
			}
			if *update {
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(vectors); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// mustNew builds a Functional vindex of type typ named after it.
func mustNew(t testing.TB, typ string) Functional {
	t.Helper()
	vx, err := New(typ, typ+"_idx", nil)
	if err != nil {
		t.Fatalf("New(%q): %v", typ, err)
	}
	f, ok := vx.(Functional)
	if !ok {
		t.Fatalf("New(%q) is %T, not Functional", typ, vx)
	}
	return f
}

// mapHex maps v and returns the keyspace id in hex, failing on error.
func mapHex(t testing.TB, vx Functional, v any) string {
	t.Helper()
	id, err := vx.Map(v)
	if err != nil {
		t.Fatalf("%s Map(%#v): %v", vx.Type(), v, err)
	}
	return id.String()
}

// checkVectors asserts hand-written vectors; they guard the golden files
// against a mistaken -update.
func checkVectors(t *testing.T, vx Functional, cases []struct {
	in   any
	want string
}) {
	t.Helper()
	for _, c := range cases {
		id, err := vx.Map(c.in)
		if err != nil {
			t.Errorf("%s Map(%T %#v): got error %v, want %s", vx.Type(), c.in, c.in, err, c.want)
			continue
		}
		if got := id.String(); got != c.want {
			t.Errorf("%s Map(%T %#v): got %s, want %s", vx.Type(), c.in, c.in, got, c.want)
		}
	}
}

// checkUnmappable asserts that each value is refused with ErrUnmappable.
func checkUnmappable(t *testing.T, vx Functional, values ...any) {
	t.Helper()
	for _, v := range values {
		id, err := vx.Map(v)
		if !errors.Is(err, ErrUnmappable) {
			t.Errorf("%s Map(%T %#v): got %v, %v, want error wrapping ErrUnmappable", vx.Type(), v, v, id, err)
		}
	}
}

// Values every mapping must survive without panicking.
var oddValues = []any{
	nil, "", " ", "-", "+", "abc", "1.5", "1e3", " 1", "1 ", "0x10", "１",
	"\xff\xfe", []byte(nil), []byte{}, []byte{0, 1, 2},
	math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0.5, 1e300, float32(2),
	int64(math.MinInt64), uint64(math.MaxUint64), int8(-1), uint16(7),
	"18446744073709551616", "-9223372036854775809",
}

// functionalTypes are the types that map values alone (the lookup types
// map through their table; the gateway's tests cover them).
func functionalTypes() []string {
	var out []string
	for _, typ := range Types() {
		if !strings.Contains(typ, "lookup") {
			out = append(out, typ)
		}
	}
	return out
}
