package reshard

import (
	"context"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
)

// maxStatementBytes bounds one REPLACE statement, well under the servers'
// default max_allowed_packet (16 MiB in MariaDB 10.11).
const maxStatementBytes = 1 << 20

// targetSession is what a target connection is set to before rows are
// written: an explicit 0 in an AUTO_INCREMENT column stays 0, and rows
// arrive table by table, so foreign keys are not checked (the source
// checked them).
const targetSession = "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0"

// dialTarget opens a connection to a target primary's database, set up
// for writing copied rows.
func dialTarget(ctx context.Context, cc tablet.ConnConfig, addr, db string) (*tablet.Conn, error) {
	cc.Addr, cc.DB = addr, db
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Execute(ctx, targetSession); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// writeRows writes rows to table on conn in one transaction, in as few
// multi-row REPLACE statements as maxStatementBytes allows. REPLACE makes
// the write idempotent: a chunk written again after a crash between its
// commit and its progress save leaves the same rows.
func writeRows(ctx context.Context, conn *tablet.Conn, table string, fields []*mysql.Field, rows [][][]byte) error {
	if len(rows) == 0 {
		return nil
	}
	head := []byte("REPLACE INTO " + quoteIdent(table) + " (")
	for i, f := range fields {
		if i > 0 {
			head = append(head, ", "...)
		}
		head = append(head, quoteIdent(string(f.Name))...)
	}
	head = append(head, ") VALUES "...)

	if _, err := conn.Execute(ctx, "BEGIN"); err != nil {
		return err
	}
	stmt := append([]byte(nil), head...)
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := conn.Execute(ctx, string(stmt))
		stmt, n = append(stmt[:0], head...), 0
		return err
	}
	for _, row := range rows {
		if n > 0 {
			stmt = append(stmt, ',')
		}
		stmt = append(stmt, '(')
		for i, v := range row {
			if i > 0 {
				stmt = append(stmt, ',')
			}
			stmt = appendLiteral(stmt, fields[i], v)
		}
		stmt = append(stmt, ')')
		n++
		if len(stmt) >= maxStatementBytes {
			if err := flush(); err != nil {
				return rollback(ctx, conn, err)
			}
		}
	}
	if err := flush(); err != nil {
		return rollback(ctx, conn, err)
	}
	if _, err := conn.Execute(ctx, "COMMIT"); err != nil {
		return rollback(ctx, conn, err)
	}
	return nil
}

// rollback ends a failed write's transaction and returns err, the reason.
func rollback(ctx context.Context, conn *tablet.Conn, err error) error {
	if !conn.IsBroken() {
		if _, rerr := conn.Execute(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			return fmt.Errorf("%w (and the rollback failed: %v)", err, rerr)
		}
	}
	return err
}
