package reshard

import (
	"context"
	"fmt"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
)

// The position table, on every target: per workflow and source shard, the
// source GTID position whose transactions the target has applied
// (applied_gtid, written in the same transaction as their rows), and the
// position a new binlog stream must start from so that nothing is missed
// (restart_gtid: at most applied_gtid, earlier while an XA transaction
// prepared before it is not yet committed). The schema is not a keyspace,
// so the gateway never routes to it nor lists it.
const (
	positionSchema       = "_shardgate"
	positionTable        = "`_shardgate`.`reshard_position`"
	createPositionSchema = "CREATE DATABASE IF NOT EXISTS `_shardgate`"
	createPositionTable  = "CREATE TABLE IF NOT EXISTS " + positionTable + ` (
  keyspace_name VARCHAR(64) NOT NULL,
  workflow VARCHAR(64) NOT NULL,
  source_shard VARCHAR(64) NOT NULL,
  applied_gtid VARCHAR(4096) NOT NULL,
  restart_gtid VARCHAR(4096) NOT NULL,
  PRIMARY KEY (keyspace_name, workflow, source_shard)
) ENGINE=InnoDB`
)

// catchupSession is set on a catch-up's target connections on top of
// targetSession: TIMESTAMP values come out of the binlog in UTC.
const catchupSession = "SET SESSION time_zone = '+00:00'"

// rowChange is one row event's row: before is nil for an insert, after
// nil for a delete; values are text as the text protocol has them.
type rowChange struct {
	table         *catchupTable
	before, after [][]byte
}

// catchupTable is a workflow table as catch-up needs it.
type catchupTable struct {
	*tableInfo
	// reference tables are applied to every target; the others to the
	// target owning the row's keyspace id (vcol, vx).
	reference bool
}

// binlogText turns a value decoded from a row event into the text the
// text protocol would show for column f (nil for NULL). go-mysql decodes
// integers as signed unless the binlog carries the column's signedness,
// so f (from the source's result metadata) decides.
func binlogText(f *mysql.Field, v any) []byte {
	unsigned := f.Flag&mysql.UNSIGNED_FLAG != 0
	switch v := v.(type) {
	case nil:
		return nil
	case int8:
		if unsigned {
			return strconv.AppendUint(nil, uint64(uint8(v)), 10)
		}
		return strconv.AppendInt(nil, int64(v), 10)
	case int16:
		if unsigned {
			return strconv.AppendUint(nil, uint64(uint16(v)), 10)
		}
		return strconv.AppendInt(nil, int64(v), 10)
	case int32:
		if unsigned {
			if f.Type == mysql.MYSQL_TYPE_INT24 {
				return strconv.AppendUint(nil, uint64(uint32(v)&0xffffff), 10)
			}
			return strconv.AppendUint(nil, uint64(uint32(v)), 10)
		}
		return strconv.AppendInt(nil, int64(v), 10)
	case int64:
		if unsigned {
			return strconv.AppendUint(nil, uint64(v), 10)
		}
		return strconv.AppendInt(nil, v, 10)
	case uint8:
		return strconv.AppendUint(nil, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(nil, uint64(v), 10)
	case uint32:
		return strconv.AppendUint(nil, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(nil, v, 10)
	case float32:
		return strconv.AppendFloat(nil, float64(v), 'g', -1, 32)
	case float64:
		return strconv.AppendFloat(nil, v, 'g', -1, 64)
	case string:
		return []byte(v)
	case []byte:
		if v == nil {
			return []byte{}
		}
		return v
	}
	return fmt.Append(nil, v)
}

// replaceStatement writes a full row image.
func replaceStatement(ti *tableInfo, row [][]byte) string {
	return string(appendReplaceRow([]byte("REPLACE INTO "+quoteIdent(ti.name)+" VALUES "), ti, row))
}

// appendReplaceRow appends a row's values, (v1,v2,...).
func appendReplaceRow(b []byte, ti *tableInfo, row [][]byte) []byte {
	b = append(b, '(')
	for i, v := range row {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLiteral(b, ti.fields[i], v)
	}
	return append(b, ')')
}

// deleteStatement deletes a row by its primary key.
func deleteStatement(ti *tableInfo, row [][]byte) string {
	b := []byte("DELETE FROM " + quoteIdent(ti.name) + " WHERE ")
	for i, c := range ti.pk {
		if i > 0 {
			b = append(b, " AND "...)
		}
		b = append(b, quoteIdent(string(ti.fields[c].Name))...)
		b = append(b, " = "...)
		b = appendLiteral(b, ti.fields[c], row[c])
	}
	return string(b)
}

// samePK reports whether two images of a row have the same primary key.
func samePK(ti *tableInfo, a, b [][]byte) bool {
	for _, c := range ti.pk {
		if string(a[c]) != string(b[c]) || (a[c] == nil) != (b[c] == nil) {
			return false
		}
	}
	return true
}

// positionStatement records a workflow's positions for one source shard.
func positionStatement(keyspace, workflow, source string, applied, restart position) string {
	str := &mysql.Field{Type: mysql.MYSQL_TYPE_VAR_STRING}
	b := []byte("REPLACE INTO " + positionTable + " VALUES (")
	for i, v := range []string{keyspace, workflow, source, applied.String(), restart.String()} {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLiteral(b, str, []byte(v))
	}
	return string(append(b, ')'))
}

// ensurePositionTable creates the position table on a target.
func ensurePositionTable(ctx context.Context, conn *tablet.Conn) error {
	for _, q := range []string{createPositionSchema, createPositionTable} {
		if _, err := conn.Execute(ctx, q); err != nil {
			return fmt.Errorf("position table: %w", err)
		}
	}
	return nil
}

// readPositions returns a target's stored positions for one source shard
// of a workflow; ok is false when it has none yet.
func readPositions(ctx context.Context, conn *tablet.Conn, keyspace, workflow, source string) (applied, restart position, ok bool, err error) {
	str := &mysql.Field{Type: mysql.MYSQL_TYPE_VAR_STRING}
	q := []byte("SELECT applied_gtid, restart_gtid FROM " + positionTable + " WHERE keyspace_name = ")
	q = appendLiteral(q, str, []byte(keyspace))
	q = appendLiteral(append(q, " AND workflow = "...), str, []byte(workflow))
	q = appendLiteral(append(q, " AND source_shard = "...), str, []byte(source))
	res, err := conn.Execute(ctx, string(q))
	if err != nil {
		return nil, nil, false, fmt.Errorf("read position: %w", err)
	}
	if len(res.Rows) == 0 {
		return nil, nil, false, nil
	}
	if applied, err = parsePosition(string(res.Rows[0][0])); err != nil {
		return nil, nil, false, err
	}
	if restart, err = parsePosition(string(res.Rows[0][1])); err != nil {
		return nil, nil, false, err
	}
	return applied, restart, true, nil
}

// execInTransaction runs statements in one transaction on conn.
func execInTransaction(ctx context.Context, conn *tablet.Conn, stmts []string) error {
	if _, err := conn.Execute(ctx, "BEGIN"); err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := conn.Execute(ctx, q); err != nil {
			return rollback(ctx, conn, fmt.Errorf("%.80s: %w", q, err))
		}
	}
	if _, err := conn.Execute(ctx, "COMMIT"); err != nil {
		return rollback(ctx, conn, err)
	}
	return nil
}
