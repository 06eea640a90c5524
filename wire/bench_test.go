package wire

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

var benchRow = [][]byte{[]byte("83868641912-28773972837-60736120486-75162659906-27563526494-20381887404-41576422241-93426793964-56405065102-33518432330"), []byte("5012"), nil}

var benchFields = []*mysql.Field{
	{Name: []byte("c"), Type: mysql.MYSQL_TYPE_STRING, Charset: 45},
	{Name: []byte("k"), Type: mysql.MYSQL_TYPE_LONG},
	{Name: []byte("pad"), Type: mysql.MYSQL_TYPE_STRING, Charset: 45},
}

// BenchmarkEncodeTextRow: one text-protocol row packet (text_row.go).
func BenchmarkEncodeTextRow(b *testing.B) {
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendTextRow(buf[:HeaderSize], benchRow)
	}
}

// BenchmarkEncodeBinaryRow: one binary-protocol row packet (binary_row_encode.go).
func BenchmarkEncodeBinaryRow(b *testing.B) {
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendBinaryRow(buf[:HeaderSize], benchFields, benchRow); err != nil {
			b.Fatal(err)
		}
	}
}
