package vindex

import (
	"bytes"
	"testing"
)

func TestBinaryMap(t *testing.T) {
	checkVectors(t, mustNew(t, "binary"), []struct {
		in   any
		want string
	}{
		// Vitess's binary_test.go maps "test1" and its bytes to themselves.
		{"test1", "7465737431"},
		{[]byte("test1"), "7465737431"},
		{[]byte{0x00, 0xff}, "00ff"},
		{int64(1), "31"},
		{int64(-12), "2d3132"},
		{uint64(18446744073709551615), "3138343436373434303733373039353531363135"},
		{"", ""},
	})
	checkUnmappable(t, mustNew(t, "binary"), nil, 1.0, 2.5)
}

// TestBinaryCopies checks that Map does not alias the caller's bytes.
func TestBinaryCopies(t *testing.T) {
	vx := mustNew(t, "binary")
	in := []byte{1, 2, 3}
	id := mustMap(t, vx, in)
	in[0] = 9
	if !bytes.Equal(id, []byte{1, 2, 3}) {
		t.Errorf("binary Map([1 2 3]) then changing the input: got %x, want 010203", []byte(id))
	}
	if id := mustMap(t, vx, ""); id == nil {
		t.Errorf(`binary Map(""): got nil, want an empty keyspace id`)
	}
}
