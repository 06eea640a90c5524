package gateway

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
)

// FLOAT in the binary protocol. Shards answer the gateway in the text
// protocol, where MariaDB prints a FLOAT with 6 significant digits; a
// binary-protocol client of MariaDB gets the stored float32 itself. So a
// prepared SELECT whose result has a FLOAT column reads its shards through
// the binary protocol instead (tablet's StreamBinary: prepare, execute,
// close), which renders each FLOAT as text that parses back to the exact
// float32 and everything else exactly as the text protocol does. That
// costs a shard round trip (the prepare), paid only by those statements:
// text-protocol clients get MariaDB's 6-digit text, as from MariaDB, and
// every other statement keeps the one-round-trip text path.

// stream runs query on conn in the protocol the statement needs.
func (vc *vcursor) stream(ctx context.Context, conn *tablet.Conn, query string, onFields func([]*mysql.Field) error, onRow func([][]byte) error) (*tablet.Result, error) {
	if vc.exactFloats {
		return conn.StreamBinary(ctx, query, onFields, onRow)
	}
	return conn.Stream(ctx, query, onFields, onRow)
}

// hasFloatColumn tells whether a prepared statement's result columns, as
// a shard announced them at prepare time (prepare.go), include a FLOAT. A
// statement announced without columns (its prepare failed on the shard)
// has none as far as the gateway knows.
func hasFloatColumn(columns [][]byte) bool {
	for _, def := range columns {
		if t, ok := columnType(def); ok && t == mysql.MYSQL_TYPE_FLOAT {
			return true
		}
	}
	return false
}

// columnType reads the type of a column definition packet without
// parsing the rest:
//
//	catalog, schema, table, org_table, name, org_name  lenenc strings
//	length of the fixed fields                         lenenc int (0x0c)
//	character set [2]  column length [4]  type [1]  flags [2]  decimals [1]
func columnType(def []byte) (byte, bool) {
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
