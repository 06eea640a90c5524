package planner

import (
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// Statements that dump files and tools send and that the gateway accepts
// without passing them to a shard (docs/NOTES.md, "Dumps").

// lockNotEnforced is the warning LOCK TABLES answers with.
const lockNotEnforced = "LOCK TABLES is accepted but not enforced by shardgate: other sessions can still read and write the tables"

// buildCompat plans CREATE DATABASE of a keyspace and LOCK TABLES; ok is
// false for other statements.
func (b *builder) buildCompat(stmt ast.StmtNode) (engine.Primitive, bool, error) {
	switch st := stmt.(type) {
	case *ast.CreateDatabaseStmt:
		name := st.Name.O
		if b.vs.Keyspaces[name] == nil {
			return nil, true, refusedf("CREATE DATABASE '%s': databases are keyspaces, created with shardctl keyspace create", name)
		}
		if !st.IfNotExists {
			return nil, true, sqlerror.New(sqlerror.User, mysql.ER_DB_CREATE_EXISTS, "Can't create database '%s'; database exists", name)
		}
		return &engine.Noop{Statement: "CREATE DATABASE", Code: mysql.ER_DB_CREATE_EXISTS, Message: "Can't create database '" + name + "'; database exists"}, true, nil
	case *ast.LockTablesStmt:
		for _, tl := range st.TableLocks {
			if _, err := b.resolveTable(tl.Table); err != nil {
				return nil, true, err
			}
		}
		return &engine.Noop{Statement: "LOCK TABLES", Code: mysql.ER_NOT_SUPPORTED_YET, Message: lockNotEnforced}, true, nil
	}
	return nil, false, nil
}
