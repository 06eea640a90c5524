package wire

import "github.com/go-mysql-org/go-mysql/mysql"

// MaxColumns bounds the column count of a result set read from a shard.
// MariaDB answers SELECT 1,2,...,100000 (the bound used to be 65536 and
// such a result broke the shard connection: issue 15, finding 8); a
// million column definitions cost the reader about 200 MB.
const MaxColumns = 1 << 20

// ParseColumnCount reads the first packet of a result set: the column
// count, a length-encoded integer that fills the packet. ok is false for
// anything else, and for counts of 0 or over MaxColumns.
func ParseColumnCount(pkt []byte) (n int, ok bool) {
	v, next, ok := ReadLenEncInt(pkt, 0)
	if !ok || next != len(pkt) || v == 0 || v > MaxColumns {
		return 0, false
	}
	return int(v), true
}

// AppendColumnCount appends the column count packet of a result set.
func AppendColumnCount(data []byte, n int) []byte {
	return AppendLenEncInt(data, uint64(n))
}

// ParseColumn parses a column definition packet into f (f.Data aliases
// data). go-mysql's parser indexes without checking lengths, so a short
// packet is turned into ErrMalformed instead of a panic.
func ParseColumn(f *mysql.Field, data []byte) (err error) {
	defer func() {
		if recover() != nil {
			err = ErrMalformed
		}
	}()
	if err := f.Parse(data); err != nil {
		return ErrMalformed
	}
	return nil
}

// AppendColumn appends a column definition packet: the backend's own bytes
// when f came from one (f.Data), else f encoded.
func AppendColumn(data []byte, f *mysql.Field) []byte {
	return append(data, f.Dump()...)
}

// ColumnType reads the type of a column definition packet without
// parsing the rest:
//
//	catalog, schema, table, org_table, name, org_name  lenenc strings
//	length of the fixed fields                         lenenc int (0x0c)
//	character set [2]  column length [4]  type [1]  flags [2]  decimals [1]
func ColumnType(def []byte) (byte, bool) {
	pos := 0
	for range 6 {
		if pos >= len(def) {
			return 0, false
		}
		n := int(def[pos])
		if n >= 0xfb {
			// A name of 251 bytes or more: rare enough for the general
			// decoder.
			v, null, w := mysql.LengthEncodedInt(def[pos:])
			if null || w == 0 || v > uint64(len(def)) {
				return 0, false
			}
			n, pos = int(v), pos+w-1
		}
		pos += 1 + n
	}
	// The fixed fields' length is always 0x0c (one byte).
	pos += 1 + 2 + 4
	if pos >= len(def) {
		return 0, false
	}
	return def[pos], true
}
