package vindex

import (
	"crypto/des"
	"encoding/binary"
	"math"
	"testing"
)

// TestHashVitessVectors pins Vitess's own vectors for the hash vindex
// (go/vt/vtgate/vindexes/hash_test.go: 1..6) and more cross-checked with
// `openssl enc -des-ecb -K 0000000000000000 -nopad`.
func TestHashVitessVectors(t *testing.T) {
	checkVectors(t, mustNew(t, "hash"), []struct {
		in   any
		want string
	}{
		{int64(1), "166b40b44aba4bd6"},
		{int64(2), "06e7ea22ce92708f"},
		{int64(3), "4eb190c9a2fa169c"},
		{int64(4), "d2fd8867d50d2dfe"},
		{int64(5), "70bb023c810ca87a"},
		{int64(6), "f098480ac4c4be71"},
		{int64(0), "8ca64de9c1b123a7"},
		{int64(-1), "355550b2150e2451"},
		{int64(1000), "1f7db68037e0ff5a"},
		{int64(math.MaxInt64), "f77d48aadda1f1bb"},
		{uint64(1 << 63), "95f8a5e5dd31d900"},
		{uint64(math.MaxUint64), "355550b2150e2451"},
	})
}

// TestHashValueForms checks that every form of one integer maps alike.
func TestHashValueForms(t *testing.T) {
	vx := mustNew(t, "hash")
	forms := map[string][]any{
		"166b40b44aba4bd6": {int64(1), uint64(1), 1.0, "1", "+1", "01", []byte("1"), int(1), int32(1), uint8(1), float32(1)},
		"355550b2150e2451": {int64(-1), uint64(math.MaxUint64), -1.0, "-1", "18446744073709551615", []byte("-1"), int8(-1)},
		"8ca64de9c1b123a7": {int64(0), uint64(0), 0.0, math.Copysign(0, -1), "0", "-0", []byte("0")},
		"95f8a5e5dd31d900": {int64(math.MinInt64), uint64(1 << 63), "-9223372036854775808", "9223372036854775808"},
	}
	for want, values := range forms {
		for _, v := range values {
			if got := mapHex(t, vx, v); got != want {
				t.Errorf("hash Map(%T %#v): got %s, want %s", v, v, got, want)
			}
		}
	}
}

func TestHashUnmappable(t *testing.T) {
	checkUnmappable(t, mustNew(t, "hash"),
		nil, "", "abc", " 1", "1 ", "1.0", "1e3", "0x10", "--1", "１",
		"18446744073709551616", "-9223372036854775809", []byte("abc"),
		1.5, -0.5, math.NaN(), math.Inf(1), math.Inf(-1), float64(1<<53), -float64(1<<53), 1e300,
	)
}

// TestHashReversible checks that a keyspace id decrypts back to its value,
// as Vitess's ReverseMap relies on.
func TestHashReversible(t *testing.T) {
	vx := mustNew(t, "hash")
	block, err := des.NewCipher(make([]byte, 8))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint64{0, 1, 2, 1 << 32, 1 << 63, math.MaxUint64} {
		id := mustMap(t, vx, n)
		var plain [8]byte
		block.Decrypt(plain[:], id)
		if got := binary.BigEndian.Uint64(plain[:]); got != n {
			t.Errorf("hash Map(%d) = %s decrypts to %d, want %d", n, id, got, n)
		}
		if len(id) != 8 || cap(id) != 8 {
			t.Errorf("hash Map(%d): got len %d cap %d, want 8 and 8", n, len(id), cap(id))
		}
	}
}

func BenchmarkHashMap(b *testing.B) {
	vx := mustNew(b, "hash")
	for _, bc := range []struct {
		name  string
		value any
	}{
		{"int64", any(int64(123456789))},
		{"uint64", any(uint64(123456789))},
		{"string", any("123456789")},
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
