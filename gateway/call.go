package gateway

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/tablet"
)

// execCall runs CALL. A procedure runs on one shard — of an unsharded
// keyspace, or the shard the session targets — and every result it
// answers with (a result set per SELECT it runs, then its own OK) goes to
// the client in order, as MariaDB sends them; an error it raises (SIGNAL)
// after some results ends the response. In a sharded keyspace a procedure
// would run on one shard and see that shard's rows only: refused.
func (s *session) execCall(ctx context.Context, stmt *ast.CallStmt, sql string, args []any, binary, more bool) error {
	one, err := s.planOneShard(ctx, stmt, sql, args, "CALL in a sharded keyspace (procedures run in unsharded keyspaces, or on a shard targeted with USE `ks:shard`)")
	if err != nil {
		return err
	}
	defer one.done()

	w := callWriter{s: s, binary: binary, more: more}
	err = one.sc.conn.StreamResults(ctx, one.query, w.fields, w.row, w.end)
	if err != nil {
		err = s.abortIfPrimaryChanged(ctx, err)
		s.abortOnError(ctx, err)
		if w.written {
			s.writeErr(err)
			return errReported
		}
	}
	return err
}

// callWriter writes a CALL's results to the client as the shard sends
// them.
type callWriter struct {
	s            *session
	fieldsOfSet  []*mysql.Field
	binary, more bool
	written      bool
}

func (w *callWriter) fields(f []*mysql.Field) error {
	w.fieldsOfSet, w.written = f, true
	return w.s.w.WriteFields(f, w.s.status(true))
}

func (w *callWriter) row(row [][]byte) error {
	w.s.stmt.rows++
	if w.binary {
		return w.s.w.WriteBinaryRow(w.fieldsOfSet, row)
	}
	return w.s.w.WriteTextRow(row)
}

// end writes the end of one result: the EOF of a result set, or an OK.
// Every one but the shard's last says more results follow, and the last
// too when more statements of the client's query do.
func (w *callWriter) end(res *tablet.Result) error {
	w.written = true
	status := w.s.status(w.more || res.Status&mysql.SERVER_MORE_RESULTS_EXISTS != 0)
	if res.Fields != nil {
		return w.s.w.WriteEOF(status, res.Warnings)
	}
	w.s.stmt.rows += res.RowsAffected
	return w.s.w.WriteOK(res.RowsAffected, res.InsertID, status, res.Warnings, "")
}
