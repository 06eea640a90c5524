package vindex

import (
	"math"
	"strings"
	"testing"
)

// TestXXHashVitessVectors pins Vitess's own vectors for the xxhash vindex
// (go/vt/vtgate/vindexes/xxhash_test.go), cross-checked with an independent
// xxHash64.
func TestXXHashVitessVectors(t *testing.T) {
	checkVectors(t, mustNew(t, "xxhash"), []struct {
		in   any
		want string
	}{
		{"test1", "d01ab7e4d6978f0b"},
		{"test2", "87eb11714c0a0e89"},
		{"testaverylongvaluetomakesurethisworks", "81d8c38e0d850e6a"},
		{int64(1), "d46405367612b4b7"},
		{int64(-1), "d8e2a6a7c8c7623d"},
		{uint64(math.MaxUint64), "477cfa8d6d8f1f8d"},
		{int64(math.MaxInt64), "b37eb01f7bffafd8"},
		{uint64(math.MaxInt64), "b37eb01f7bffafd8"},
		{int64(math.MinInt64), "102c27ddb26a609e"},
		// Vitess maps NULL like the empty string; we refuse NULL (below).
		{"", "99e9d85137db46ef"},
	})
}

// TestXXHashValueForms checks that a value maps by its bytes: an integer
// like its decimal text, a string like the same []byte.
func TestXXHashValueForms(t *testing.T) {
	vx := mustNew(t, "xxhash")
	long := strings.Repeat("x", 100) // longer than the scratch buffer
	forms := map[string][]any{
		"d46405367612b4b7":        {int64(1), uint64(1), "1", []byte("1"), int(1), uint16(1)},
		"d8e2a6a7c8c7623d":        {int64(-1), "-1", []byte("-1"), int32(-1)},
		mapHex(t, vx, long):       {[]byte(long)},
		mapHex(t, vx, "Test"):     {[]byte("Test")},
		mapHex(t, vx, "\xff\x00"): {[]byte{0xff, 0x00}},
	}
	for want, values := range forms {
		for _, v := range values {
			if got := mapHex(t, vx, v); got != want {
				t.Errorf("xxhash Map(%T %#v): got %s, want %s", v, v, got, want)
			}
		}
	}
	if a, b := mapHex(t, vx, "abc"), mapHex(t, vx, "ABC"); a == b {
		t.Errorf(`xxhash Map("abc") = Map("ABC") = %s, want them to differ`, a)
	}
}

func TestXXHashUnmappable(t *testing.T) {
	checkUnmappable(t, mustNew(t, "xxhash"), nil, 1.0, 1.5, float32(2), math.NaN())
}

func BenchmarkXXHashMap(b *testing.B) {
	vx := mustNew(b, "xxhash")
	for _, bc := range []struct {
		name  string
		value any
	}{
		{"int64", any(int64(123456789))},
		{"string", any("user@example.com")},
		{"bytes", any([]byte("user@example.com"))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := vx.Map(bc.value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
