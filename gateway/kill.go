package gateway

import (
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/sqlerror"
)

// execKill answers KILL [QUERY | CONNECTION] id for the gateway's own client
// sessions (the id of the handshake, what CONNECTION_ID() returns), as
// VTGate does: KILL QUERY cancels the session's running statement, which
// kills its shard queries; KILL CONNECTION also closes the session, rolling
// back its transaction. A user may kill their own sessions; a user with an
// admin grant may kill any.
func (s *session) execKill(st *ast.KillStmt) error {
	if st.Expr != nil {
		return sqlerror.NotSupported("KILL with an expression")
	}
	if st.ConnectionID > 0xffffffff {
		return errNoSuchThread(st.ConnectionID)
	}
	target := s.srv.session(uint32(st.ConnectionID))
	if target == nil {
		return errNoSuchThread(st.ConnectionID)
	}
	if target.user != s.user && !s.isAdmin("") {
		return sqlerror.New(sqlerror.User, mysql.ER_KILL_DENIED_ERROR, "You are not owner of thread %d", st.ConnectionID)
	}
	if st.Query {
		if target != s { // a session's own KILL QUERY is the statement running
			target.killQuery(errStatementKilled)
		}
		return nil
	}
	target.cancelSession(errSessionKilled)
	if target == s {
		s.closeAfterReply = true
		return errConnectionKilled()
	}
	target.closeClient()
	return nil
}

func errNoSuchThread(id uint64) error {
	return sqlerror.New(sqlerror.User, mysql.ER_NO_SUCH_THREAD, "Unknown thread id: %d", id)
}
