package gateway

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/stmt"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/wire"
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
	query = vc.s.stmt.comments.around(query)
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
		if t, ok := wire.ColumnType(def); ok && t == mysql.MYSQL_TYPE_FLOAT {
			return true
		}
	}
	return false
}

// floatStmts holds the prepared statements whose result has a FLOAT
// column, found once at prepare time.
type floatStmts struct{ ids map[uint32]bool }

func (f *floatStmts) prepared(id uint32, floatResult bool) {
	if !floatResult {
		return
	}
	if f.ids == nil {
		f.ids = map[uint32]bool{}
	}
	f.ids[id] = true
}

func (f *floatStmts) closed(id uint32) { delete(f.ids, id) }

// has tells whether the statement (go-mysql's context of it) has a FLOAT
// column in its result.
func (f *floatStmts) has(context any) bool {
	ps, ok := context.(*stmt.PreparedStmt)
	return ok && f.ids[ps.ID]
}
