package gateway

import (
	"context"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/sqlquote"
)

// loadBatchBytes bounds the INSERT a sharded LOAD DATA builds from the
// file's rows at a time.
const loadBatchBytes = 1 << 20

// loadSharded runs LOAD DATA LOCAL INFILE into a sharded table. The
// gateway reads the file as the client sends it, cuts it into rows as
// the statement's FIELDS and LINES clauses say (load_format.go), and
// inserts them in batches through its own INSERT (rows routed by the
// vindexes, sequences and lookup vindexes as for any INSERT), all in one
// transaction: the session's, or one of its transaction_mode opened for
// the statement. As MySQL does for LOCAL, duplicate keys skip the row
// (INSERT IGNORE) unless REPLACE is given. Column lists of user
// variables and SET clauses are refused.
func (s *session) loadSharded(ctx context.Context, st *ast.LoadDataStmt, keyspace string, more bool) error {
	if len(st.ColumnAssignments) > 0 {
		return sqlerror.NotSupported("LOAD DATA ... SET into a sharded table")
	}
	f, err := loadFormatOf(st)
	if err != nil {
		return err
	}
	columns, err := s.loadColumns(ctx, st, keyspace)
	if err != nil {
		return err
	}
	ld := &shardedLoad{s: s, ctx: ctx, columns: columns, parser: planner.NewParser(), reader: loadReader{f: f}}
	ld.prefix = s.loadInsertPrefix(st, columns)
	if st.IgnoreLines != nil {
		ld.skip = *st.IgnoreLines
	}
	implicit := s.tx == nil
	if implicit {
		if err := s.begin(ctx, false); err != nil {
			return err
		}
	}
	err = s.relayClientFile(st.Path, ld.feed)
	if err == nil {
		ld.reader.eof = true
		err = ld.take()
	}
	if err == nil {
		err = ld.flush()
	}
	if err != nil {
		if implicit {
			s.rollback(ctx)
		} else {
			s.abortOnError(ctx, err)
		}
		return err
	}
	if implicit {
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
	s.stmt.rows += ld.affected
	info := fmt.Sprintf("Records: %d  Deleted: 0  Skipped: %d  Warnings: %d", ld.records, ld.records-min(ld.records, ld.affected), ld.warnings)
	return s.w.WriteOK(ld.affected, 0, s.status(more), uint16(min(ld.warnings, 0xffff)), info)
}

// loadColumns is the statement's column list, or the table's columns in
// order, as a shard of the keyspace has them.
func (s *session) loadColumns(ctx context.Context, st *ast.LoadDataStmt, keyspace string) ([]string, error) {
	var cols []string
	for _, c := range st.ColumnsAndUserVars {
		if c.ColumnName == nil {
			return nil, sqlerror.NotSupported("LOAD DATA into user variables in a sharded table")
		}
		cols = append(cols, c.ColumnName.Name.O)
	}
	if len(cols) > 0 {
		return cols, nil
	}
	vc := s.newVCursor(s.routing())
	ss, err := vc.Shards(ctx, keyspace)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "keyspace %s has no serving shard", keyspace)
	}
	q := sqlquote.Append([]byte("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = "), st.Table.Name.O)
	res, err := vc.executeOne(ctx, keyspace, ss[0].Name, string(q)+" ORDER BY ORDINAL_POSITION")
	if err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		cols = append(cols, string(row[0]))
	}
	if len(cols) == 0 {
		return nil, sqlerror.New(sqlerror.User, mysql.ER_NO_SUCH_TABLE, "Table '%s.%s' doesn't exist", keyspace, st.Table.Name.O)
	}
	return cols, nil
}

// loadInsertPrefix is `INSERT IGNORE INTO t (cols) VALUES ` (or REPLACE).
func (s *session) loadInsertPrefix(st *ast.LoadDataStmt, columns []string) []byte {
	verb := "INSERT IGNORE INTO "
	if st.OnDuplicate == ast.OnDuplicateKeyHandlingReplace {
		verb = "REPLACE INTO "
	}
	b := []byte(verb)
	if st.Table.Schema.O != "" {
		b = append(b, quoteIdent(st.Table.Schema.O)...)
		b = append(b, '.')
	}
	b = append(b, quoteIdent(st.Table.Name.O)...)
	b = append(b, " ("...)
	for i, c := range columns {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, quoteIdent(c)...)
	}
	return append(b, ") VALUES "...)
}

// shardedLoad is one sharded LOAD DATA under way.
type shardedLoad struct {
	s       *session
	ctx     context.Context
	columns []string
	parser  *planner.Parser // the default sql_mode: what sqlquote writes
	reader  loadReader
	prefix  []byte
	batch   []byte // the INSERT being built; empty when no row is in it
	skip    uint64 // IGNORE n LINES still to skip

	records, affected, warnings uint64
}

// feed takes one packet of the file.
func (ld *shardedLoad) feed(data []byte) error {
	ld.reader.feed(data)
	return ld.take()
}

// take adds the whole rows read so far to the batch, sending it when it
// is large enough.
func (ld *shardedLoad) take() error {
	for {
		row, ok := ld.reader.next()
		if !ok {
			return nil
		}
		if ld.skip > 0 {
			ld.skip--
			continue
		}
		ld.records++
		if len(ld.batch) == 0 {
			ld.batch = append(ld.batch[:0], ld.prefix...)
		} else {
			ld.batch = append(ld.batch, ", "...)
		}
		ld.batch = append(ld.batch, '(')
		for i := range ld.columns {
			if i > 0 {
				ld.batch = append(ld.batch, ", "...)
			}
			switch {
			case i >= len(row):
				// Too few fields: an empty value, as MariaDB reads it
				// (0 for a number, with a warning; not the default).
				ld.batch = append(ld.batch, "''"...)
			case row[i].null:
				ld.batch = append(ld.batch, "NULL"...)
			default:
				ld.batch = sqlquote.Append(ld.batch, row[i].val)
			}
		}
		ld.batch = append(ld.batch, ')')
		if len(ld.batch) >= loadBatchBytes {
			if err := ld.flush(); err != nil {
				return err
			}
		}
	}
}

// flush inserts the batch's rows through the planner.
func (ld *shardedLoad) flush() error {
	if len(ld.batch) == 0 {
		return nil
	}
	s, text := ld.s, string(ld.batch)
	ld.batch = ld.batch[:0]
	stmts, err := ld.parser.Parse(text)
	if err != nil {
		return err
	}
	plan, r, err := s.buildPlan(stmts[0], text)
	if err != nil {
		return err
	}
	if err := s.enterPlan(ld.ctx, plan); err != nil {
		return err
	}
	vc := s.cursor(r, plan)
	res, err := s.execute(ld.ctx, plan, vc, nil)
	vc.flushWarnings()
	if err != nil {
		return s.abortIfPrimaryChanged(ld.ctx, err)
	}
	ld.affected += res.RowsAffected
	ld.warnings += uint64(res.Warnings)
	return nil
}
