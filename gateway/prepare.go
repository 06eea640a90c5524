package gateway

import (
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
func (s *session) preparedColumns(stmt ast.StmtNode, query string, nparams int) [][]byte {
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
