package vindex

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestUnicodeLooseXXHashVitessVectors pins Vitess's own vectors
// (go/vt/vtgate/vindexes/unicodeloosexxhash_test.go).
func TestUnicodeLooseXXHashVitessVectors(t *testing.T) {
	checkVectors(t, mustNew(t, "unicode_loose_xxhash"), []struct {
		in   any
		want string
	}{
		{[]byte("Test"), "42d21361087a4c07"},
		{[]byte("TEst"), "42d21361087a4c07"},
		{[]byte("Te\u0301st"), "42d21361087a4c07"},
		{[]byte("Tést"), "42d21361087a4c07"},
		{[]byte("Bést"), "926975b9ce2ec316"},
		{[]byte("Test "), "42d21361087a4c07"},
		{[]byte(" Test"), "4fcb8be34ec05775"},
		{[]byte("Test\t"), "20af87fc36e3fd51"},
		{[]byte("TéstLooong"), "d3ea873942b484a7"},
		{[]byte("T"), "f81c3be2d501fe18"},
		// Vitess maps NULL like the empty string; we refuse NULL (below).
		{"", "99e9d85137db46ef"},
	})
}

// TestUnicodeLooseXXHashVitessGolden checks cases from Vitess's
// go/vt/vtgate/vindexes/testdata/unicode_hash_golden.json (long Wikipedia
// texts in several scripts), copied into testdata/ and never rewritten.
func TestUnicodeLooseXXHashVitessGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/vitess_unicode_hash_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden []struct {
		Input  []byte
		XXHash []byte
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden) == 0 {
		t.Fatal("no golden cases")
	}
	vx := mustNew(t, "unicode_loose_xxhash")
	for _, g := range golden {
		for _, in := range []any{g.Input, string(g.Input)} {
			if got, want := mapHex(t, vx, in), hex.EncodeToString(g.XXHash); got != want {
				t.Errorf("unicode_loose_xxhash Map(%T %.40q...): got %s, want %s", in, g.Input, got, want)
			}
		}
	}
}

// TestUnicodeLooseXXHashEquivalence checks that strings equal under a
// case- and accent-insensitive PAD SPACE collation map alike, and that
// others do not.
func TestUnicodeLooseXXHashEquivalence(t *testing.T) {
	vx := mustNew(t, "unicode_loose_xxhash")
	same := [][]any{
		{"ABC", "abc", "abc ", "abc   ", "Abc", "ÁBC", "àbç", "ａｂｃ", []byte("abc"), []byte("ABC ")},
		{"straße", "STRASSE", "Strasse"},
		{"1", int64(1), uint64(1), []byte("1"), "1 "},
		{"", " ", "   ", []byte{}},
	}
	for _, group := range same {
		want := mapHex(t, vx, group[0])
		for _, v := range group[1:] {
			if got := mapHex(t, vx, v); got != want {
				t.Errorf("unicode_loose_xxhash Map(%T %q): got %s, want %s as for %q", v, v, got, want, group[0])
			}
		}
	}
	different := []any{"abc", " abc", "abc\t", "abd", "ab", "abcd", "a b c", "日本", "日本語"}
	seen := map[string]any{}
	for _, v := range different {
		id := mapHex(t, vx, v)
		if prev, ok := seen[id]; ok {
			t.Errorf("unicode_loose_xxhash Map(%q) = Map(%q) = %s, want them to differ", v, prev, id)
		}
		seen[id] = v
	}
}

func TestUnicodeLooseXXHashUnmappable(t *testing.T) {
	checkUnmappable(t, mustNew(t, "unicode_loose_xxhash"),
		nil, "\xff", "abc\xc3", []byte{0xc3}, []byte("ok\xff "), 1.0, 2.5)
}

// TestUnicodeLooseXXHashConcurrent maps from many goroutines at once; run
// with -race it checks that collators are not shared.
func TestUnicodeLooseXXHashConcurrent(t *testing.T) {
	vx := mustNew(t, "unicode_loose_xxhash")
	inputs := []string{"Test", "Bést", strings.Repeat("Grüße ", 1000), "日本語", "TéstLooong"}
	want := make([]string, len(inputs))
	for i, in := range inputs {
		want[i] = mapHex(t, vx, in)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := (g + i) % len(inputs)
				id, err := vx.Map(inputs[k])
				if err != nil {
					t.Errorf("unicode_loose_xxhash Map(%.20q): %v", inputs[k], err)
					return
				}
				if got := id.String(); got != want[k] {
					t.Errorf("unicode_loose_xxhash Map(%.20q) concurrently: got %s, want %s", inputs[k], got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkUnicodeLooseXXHashMap(b *testing.B) {
	vx := mustNew(b, "unicode_loose_xxhash")
	for _, bc := range []struct {
		name  string
		value any
	}{
		{"ascii", any("user@example.com")},
		{"accented", any("Grüße aus Köln")},
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
