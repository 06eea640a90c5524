package wire

import (
	"bytes"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestAppendBinaryValue(t *testing.T) {
	cases := []struct {
		typ      byte
		flag     uint16
		text     string
		want     []byte
		wantFail bool
	}{
		{mysql.MYSQL_TYPE_TINY, 0, "-1", []byte{0xff}, false},
		{mysql.MYSQL_TYPE_TINY, mysql.UNSIGNED_FLAG, "255", []byte{0xff}, false},
		{mysql.MYSQL_TYPE_SHORT, 0, "-2", []byte{0xfe, 0xff}, false},
		{mysql.MYSQL_TYPE_LONG, 0, "16909060", []byte{4, 3, 2, 1}, false},
		{mysql.MYSQL_TYPE_LONGLONG, mysql.UNSIGNED_FLAG, "18446744073709551615", bytes.Repeat([]byte{0xff}, 8), false},
		{mysql.MYSQL_TYPE_LONGLONG, 0, "-9223372036854775808", []byte{0, 0, 0, 0, 0, 0, 0, 0x80}, false},
		{mysql.MYSQL_TYPE_DOUBLE, 0, "1", []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, false},
		{mysql.MYSQL_TYPE_FLOAT, 0, "1", []byte{0, 0, 0x80, 0x3f}, false},
		{mysql.MYSQL_TYPE_NEWDECIMAL, 0, "12.50", append([]byte{5}, "12.50"...), false},
		{mysql.MYSQL_TYPE_VAR_STRING, 0, "a\x00b", []byte{3, 'a', 0, 'b'}, false},
		{mysql.MYSQL_TYPE_DATE, 0, "2024-02-29", []byte{4, 0xe8, 0x07, 2, 29}, false},
		{mysql.MYSQL_TYPE_DATE, 0, "0000-00-00", []byte{0}, false},
		{mysql.MYSQL_TYPE_DATETIME, 0, "2024-02-29 13:14:15", []byte{7, 0xe8, 0x07, 2, 29, 13, 14, 15}, false},
		{mysql.MYSQL_TYPE_DATETIME, 0, "2024-02-29 00:00:00", []byte{4, 0xe8, 0x07, 2, 29}, false},
		{mysql.MYSQL_TYPE_DATETIME, 0, "2024-02-29 13:14:15.000001", []byte{11, 0xe8, 0x07, 2, 29, 13, 14, 15, 1, 0, 0, 0}, false},
		{mysql.MYSQL_TYPE_TIMESTAMP, 0, "2024-02-29 13:14:15.5", []byte{11, 0xe8, 0x07, 2, 29, 13, 14, 15, 0x20, 0xa1, 0x07, 0}, false},
		{mysql.MYSQL_TYPE_TIME, 0, "00:00:00", []byte{0}, false},
		{mysql.MYSQL_TYPE_TIME, 0, "-838:59:59", []byte{8, 1, 34, 0, 0, 0, 22, 59, 59}, false},
		{mysql.MYSQL_TYPE_TIME, 0, "01:02:03.000004", []byte{12, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0}, false},
		{mysql.MYSQL_TYPE_LONG, 0, "x", nil, true},
		{mysql.MYSQL_TYPE_DATETIME, 0, "garbage", nil, true},
	}
	for _, c := range cases {
		f := &mysql.Field{Type: c.typ, Flag: c.flag}
		got, err := appendBinaryValue(nil, f, []byte(c.text))
		if c.wantFail {
			if err == nil {
				t.Errorf("type %d %q: got %x, want an error", c.typ, c.text, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("type %d %q: got %x, %v; want %x", c.typ, c.text, got, err, c.want)
		}
	}
}

func TestAppendBinaryRowNullBitmap(t *testing.T) {
	fields := []*mysql.Field{{Type: mysql.MYSQL_TYPE_LONG}, {Type: mysql.MYSQL_TYPE_VAR_STRING}, {Type: mysql.MYSQL_TYPE_LONG}}
	got, err := AppendBinaryRow(nil, fields, [][]byte{nil, []byte("x"), nil})
	if err != nil {
		t.Fatal(err)
	}
	// header 0x00, bitmap (3+7+2)/8 = 1 byte with bits 2 and 4 set, then "x".
	want := []byte{0x00, 0x14, 1, 'x'}
	if !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}
