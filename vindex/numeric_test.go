package vindex

import (
	"math"
	"testing"
)

func TestNumericMap(t *testing.T) {
	checkVectors(t, mustNew(t, "numeric"), []struct {
		in   any
		want string
	}{
		// Vitess's numeric_test.go: 1..8 as ints, uints and text.
		{int64(1), "0000000000000001"},
		{int(2), "0000000000000002"},
		{int32(3), "0000000000000003"},
		{uint(4), "0000000000000004"},
		{uint32(5), "0000000000000005"},
		{uint64(6), "0000000000000006"},
		{[]byte("7"), "0000000000000007"},
		{"8", "0000000000000008"},
		{int64(0), "0000000000000000"},
		{uint64(math.MaxUint64), "ffffffffffffffff"},
		{uint64(1 << 63), "8000000000000000"},
		{int64(math.MaxInt64), "7fffffffffffffff"},
		{2.0, "0000000000000002"},
		// Vitess refuses negatives; we take the two's complement, as hash does.
		{int64(-1), "ffffffffffffffff"},
		{"-2", "fffffffffffffffe"},
	})
}

func TestNumericUnmappable(t *testing.T) {
	checkUnmappable(t, mustNew(t, "numeric"), nil, "abc", "", "1.5", 1.1, math.NaN(), float64(1<<60))
}

// TestNumericOrder checks that numeric keeps the order of unsigned values.
func TestNumericOrder(t *testing.T) {
	vx := mustNew(t, "numeric")
	values := []uint64{0, 1, 255, 256, 1 << 32, 1 << 63, math.MaxUint64}
	for i := 1; i < len(values); i++ {
		a, b := mapHex(t, vx, values[i-1]), mapHex(t, vx, values[i])
		if a >= b {
			t.Errorf("numeric Map(%d) = %s, Map(%d) = %s: got out of order, want ascending", values[i-1], a, values[i], b)
		}
	}
}
