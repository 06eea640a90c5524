package gateway

import (
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// preparedColumns are the column definitions COM_STMT_PREPARE reports for
// a query, as the shards describe them: the statement runs once with NULL
// arguments and LIMIT 0, which MySQL answers from its metadata without
// reading rows. Clients rely on the count: libmariadb's
// mysql_stmt_store_result reads no rows of a statement prepared with zero
// columns, so the next command fails with "Commands out of sync".
//
// nil (the client learns the columns at execution) for statements without
// columns, for those that already have a LIMIT (or INTO, FOR UPDATE), and
// inside a transaction, where the probe would join shards to it.
//
// The answer is kept in the plan cache, so a client that prepares the
// same statement for every execution (Go's database/sql does) pays for the
// probe once: keyed by target and text, valid for the compiled vschema and
// until this gateway runs DDL (a DDL generation in the key). DDL applied
// to the shards some other way is not seen until the vschema changes.
func (s *session) preparedColumns(stmt ast.StmtNode, query string, nparams int) [][]byte {
	if !isQuery(stmt) {
		return nil
	}
	var r *routing
	var key []byte
	if plans := s.srv.plans; plans != nil {
		r = s.srv.topo.current.Load()
		if r.snap == nil {
			return nil
		}
		key = appendPlanKey(s.keyBuf[:0], s.target(), planKeyColumns)
		key = strconv.AppendUint(key, s.srv.ddlGen.Load(), 10)
		key = append(append(key, 0), query...)
		s.keyBuf = key[:0]
		if e, hit := plans.get(key, r.snap.VSchema); hit {
			return e.cols
		}
	}
	cols := s.probeColumns(stmt, query, nparams)
	if cols != nil && key != nil {
		s.srv.plans.putColumns(string(key), r.snap.VSchema, cols)
	}
	return cols
}

func isQuery(stmt ast.StmtNode) bool {
	switch stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return true
	}
	return false
}

// probeColumns runs the LIMIT 0 probe.
func (s *session) probeColumns(stmt ast.StmtNode, query string, nparams int) [][]byte {
	if s.tx != nil || !s.autocommit {
		return nil
	}
	switch st := stmt.(type) {
	case *ast.SelectStmt:
		if st.Limit != nil || st.SelectIntoOpt != nil || st.LockInfo != nil {
			return nil
		}
	case *ast.SetOprStmt:
		if st.Limit != nil {
			return nil
		}
	default:
		return nil
	}
	// A new line ends a trailing -- or # comment.
	text := strings.TrimRight(query, "; \t\r\n") + "\nLIMIT 0"
	probe, err := s.parser.Parse(text)
	if err != nil || len(probe) != 1 {
		return nil
	}
	res, err := s.executePlanned(s.srv.ctx, probe[0], text, make([]any, nparams))
	if err != nil || len(res.Fields) == 0 {
		return nil
	}
	return dumpFields(res.Fields)
}

func dumpFields(fields []*mysql.Field) [][]byte {
	out := make([][]byte, len(fields))
	for i, f := range fields {
		out[i] = f.Dump()
	}
	return out
}
