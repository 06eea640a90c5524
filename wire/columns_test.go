package wire

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// TestColumnType: the type byte is read from a column definition as
// go-mysql writes it, and a short packet is no type.
func TestColumnType(t *testing.T) {
	for _, typ := range []byte{mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_VAR_STRING} {
		f := &mysql.Field{Schema: []byte("service"), Table: []byte("t"), OrgTable: []byte("t"), Name: []byte("f"), OrgName: []byte("f"), Charset: 63, Type: typ}
		def := f.Dump()
		if got, ok := ColumnType(def); !ok || got != typ {
			t.Errorf("ColumnType(%x) = %d, %v; want %d", def, got, ok, typ)
		}
		// Every prefix that ends before the type byte (6 bytes from the
		// end: type, flags [2], decimals, filler [2]).
		for n := range len(def) - 5 {
			if _, ok := ColumnType(def[:n]); ok {
				t.Errorf("ColumnType of %d bytes of %x: ok, want not ok", n, def)
			}
		}
	}
}

// Regression test (issue 15, finding 8): SELECT 1,...,100000 has 100,000
// columns, which MariaDB answers; the count used to be refused past 65536.
func TestParseColumnCount(t *testing.T) {
	for _, tc := range []struct {
		n  uint64
		ok bool
	}{{1, true}, {300, true}, {100_000, true}, {MaxColumns, true}, {0, false}, {MaxColumns + 1, false}} {
		n, ok := ParseColumnCount(AppendLenEncInt(nil, tc.n))
		if ok != tc.ok || ok && uint64(n) != tc.n {
			t.Errorf("ParseColumnCount(%d) = %d, %v; want ok %v", tc.n, n, ok, tc.ok)
		}
	}
}
