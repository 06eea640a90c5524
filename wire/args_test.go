package wire

import (
	"bytes"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestNormalizeArgs(t *testing.T) {
	in := []any{int8(-1), uint16(7), float32(1.1), "s", nil,
		mysql.TypedBytes{Type: mysql.MYSQL_TYPE_DATETIME, Bytes: []byte{0xe8, 0x07, 2, 29, 13, 14, 15}},
		mysql.TypedBytes{Type: mysql.MYSQL_TYPE_DATE, Bytes: []byte{0xe8, 0x07, 2, 29}},
		mysql.TypedBytes{Type: mysql.MYSQL_TYPE_TIME, Bytes: []byte{1, 1, 0, 0, 0, 2, 3, 4}},
		mysql.TypedBytes{Type: mysql.MYSQL_TYPE_NEWDECIMAL, Bytes: []byte("1.50")},
	}
	got, err := NormalizeArgs(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(-1), uint64(7), 1.1, []byte("s"), nil,
		[]byte("2024-02-29 13:14:15.000000"), []byte("2024-02-29"), []byte("-26:03:04.000000"), []byte("1.50")}
	for i := range want {
		if !equalArg(got[i], want[i]) {
			t.Errorf("arg %d (%#v): got %#v, want %#v", i, in[i], got[i], want[i])
		}
	}
	if _, err := NormalizeArgs([]any{struct{}{}}); err == nil {
		t.Error("unsupported type: got no error")
	}
}

func equalArg(a, b any) bool {
	ab, aok := a.([]byte)
	bb, bok := b.([]byte)
	if aok || bok {
		return aok && bok && bytes.Equal(ab, bb)
	}
	return a == b
}
