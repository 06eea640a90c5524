package tablet

import (
	"bytes"
	"fmt"
	"testing"
)

func TestArena(t *testing.T) {
	var a arena
	var kept [][]byte
	for i := range 2000 {
		b := a.copy([]byte(fmt.Sprint(i)))
		if cap(b) != len(b) {
			t.Fatalf("arena copy of %d: cap %d, len %d", i, cap(b), len(b))
		}
		kept = append(kept, b)
	}
	big := a.copy(bytes.Repeat([]byte("q"), 100<<10))
	for i, b := range kept {
		if string(b) != fmt.Sprint(i) {
			t.Fatalf("arena copy %d became %q", i, b)
		}
	}
	if len(big) != 100<<10 {
		t.Errorf("big copy: %d bytes", len(big))
	}
	v1, v2 := a.values(3), a.values(3)
	v1 = append(v1, []byte("x"))
	if v2[0] != nil {
		t.Error("appending to one row's values overwrote the next row's")
	}
	_ = v1
}
