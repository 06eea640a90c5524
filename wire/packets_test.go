package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestLenEncInt(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		v    uint64
		next int
		ok   bool
	}{
		{[]byte{0}, 0, 1, true},
		{[]byte{0xfa}, 250, 1, true},
		{[]byte{0xfc, 0x34, 0x12}, 0x1234, 3, true},
		{[]byte{0xfd, 0x56, 0x34, 0x12}, 0x123456, 4, true},
		{[]byte{0xfe, 8, 7, 6, 5, 4, 3, 2, 1}, 0x0102030405060708, 9, true},
		{[]byte{0xfb}, 0, 0, false},                      // NULL is no integer
		{[]byte{0xff}, 0, 0, false},                      // nor is an ERR header
		{[]byte{0xfc, 0x34}, 0, 0, false},                // short
		{[]byte{0xfe, 1, 2, 3, 4, 5, 6, 7}, 0, 0, false}, // short
		{nil, 0, 0, false},
	} {
		v, next, ok := ReadLenEncInt(tc.in, 0)
		if v != tc.v || next != tc.next || ok != tc.ok {
			t.Errorf("ReadLenEncInt(%x) = %d, %d, %v; want %d, %d, %v", tc.in, v, next, ok, tc.v, tc.next, tc.ok)
		}
	}
}

func TestParseTextRow(t *testing.T) {
	long := bytes.Repeat([]byte("z"), 300)
	pkt := []byte{1, 'a', 0xfb, 0}
	pkt = append(pkt, 0xfc, 0x2c, 0x01)
	pkt = append(pkt, long...)
	row := make([][]byte, 4)
	if err := ParseTextRow(pkt, row); err != nil {
		t.Fatal(err)
	}
	if string(row[0]) != "a" || row[1] != nil || row[2] == nil || len(row[2]) != 0 || !bytes.Equal(row[3], long) {
		t.Errorf("ParseTextRow(%x) = %q", pkt[:8], row)
	}
	if cap(row[0]) != 1 {
		t.Errorf("value capacity %d reaches into the next value", cap(row[0]))
	}
	for _, bad := range [][]byte{
		{1, 'a', 0xfb},          // a column short
		{1, 'a', 0xfb, 0, 0},    // a byte left over
		{5, 'a', 0xfb, 0, 0, 0}, // a length past the end
		{0xff, 'a', 0xfb, 0},    // not a length
	} {
		if err := ParseTextRow(bad, make([][]byte, 3)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTextRow(%x) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseERR(t *testing.T) {
	pkt := append([]byte{0xff, 0x7a, 0x04, '#', '4', '2', 'S', '0', '2'}, "Table 'x.y' doesn't exist"...)
	err := ParseERR(pkt)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != 1146 || me.State != "42S02" || me.Message != "Table 'x.y' doesn't exist" {
		t.Errorf("ParseERR = %#v", err)
	}
	// Without a SQLSTATE marker.
	err = ParseERR(append([]byte{0xff, 0x10, 0x04}, "Too many connections"...))
	if !errors.As(err, &me) || me.Code != 1040 || me.State != "HY000" || me.Message != "Too many connections" {
		t.Errorf("ParseERR without state = %#v", err)
	}
	// The message is a copy, not a view of the packet buffer.
	pkt[len(pkt)-1] = '!'
	if me.Message[len(me.Message)-1] == '!' {
		t.Error("error message aliases the packet buffer")
	}
	if err := ParseERR([]byte{0xff, 1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short ERR: got %v, want ErrMalformed", err)
	}
}

func TestParseOKAndEOF(t *testing.T) {
	ok := []byte{0x00, 0xfc, 0x10, 0x27, 0x05, 0x03, 0x00, 0x02, 0x00, 'i', 'n', 'f', 'o'}
	r, err := ParseOK(ok)
	if err != nil {
		t.Fatal(err)
	}
	if r.AffectedRows != 10000 || r.InsertID != 5 || r.Status != 3 || r.Warnings != 2 {
		t.Errorf("parseOK(%x) = %+v", ok, r)
	}
	if _, err := ParseOK([]byte{0x00, 1, 2, 3}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short OK: got %v, want ErrMalformed", err)
	}
	if r, err = ParseEOF([]byte{0xfe, 0x01, 0x00, 0x22, 0x00}); err != nil || r.Warnings != 1 || r.Status != 0x22 {
		t.Errorf("parseEOF = %+v, %v", r, err)
	}
	if !IsEOF([]byte{0xfe, 0, 0, 0, 0}) || IsEOF([]byte{0x00}) || IsEOF(nil) {
		t.Error("IsEOF misreads short packets")
	}
	// A row whose first value is 16 MiB or longer starts with 0xfe too.
	if IsEOF(append([]byte{0xfe}, make([]byte, MaxPayload)...)) {
		t.Error("IsEOF took a long row for an EOF")
	}
}

func FuzzParseTextRow(f *testing.F) {
	f.Add([]byte{1, 'a', 0xfb, 0}, 3)
	f.Add([]byte{0xfc, 2, 0, 'a', 'b'}, 1)
	f.Fuzz(func(t *testing.T, pkt []byte, n int) {
		if n < 0 || n > 64 {
			return
		}
		row := make([][]byte, n)
		if err := ParseTextRow(pkt, row); err != nil {
			return
		}
		// Re-encoded (with minimal lengths), the row parses back to itself.
		var rebuilt []byte
		for _, v := range row {
			if v == nil {
				rebuilt = append(rebuilt, 0xfb)
				continue
			}
			rebuilt = mysql.AppendLengthEncodedInteger(rebuilt, uint64(len(v)))
			rebuilt = append(rebuilt, v...)
		}
		again := make([][]byte, n)
		if err := ParseTextRow(rebuilt, again); err != nil {
			t.Fatalf("row %q from %x: re-encoded %x does not parse: %v", row, pkt, rebuilt, err)
		}
		for i := range row {
			if (row[i] == nil) != (again[i] == nil) || !bytes.Equal(row[i], again[i]) {
				t.Fatalf("row %q from %x: re-parsed as %q", row, pkt, again)
			}
		}
	})
}
