package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/sqlerror"
)

// CheckRestricted refuses what only an administrator may run through the
// gateway (issue 15, finding 5): server administration, user and grant
// management, the server's file system, replication and binlogs, and the
// system databases. It answers before any shard sees the statement, also
// for shard targets (`USE ks:-80`) and unsharded keyspaces, where
// statements pass to a shard as written. who is the client as MySQL names
// it in errors ('user'@'host'); sql is the text a shard would receive.
// The gateway calls it for every statement of a user without the admin
// grant; docs/SECURITY.md lists what it refuses and the error of each.
//
// The walk recurses once per level of the tree, which Parse bounded
// before parsing (checkDepth), like every other walk of the AST.
func CheckRestricted(stmt ast.StmtNode, sql, who string) error {
	if hasMariaDBExecutableComment(sql) {
		// The parser reads `/*M! ... */` as a comment; MariaDB runs it.
		// What it holds was not checked, so it does not go to a shard.
		return sqlerror.New(sqlerror.Unsupported, mysql.ER_NOT_SUPPORTED_YET,
			"This version of shardgate doesn't yet support 'MariaDB executable comments (/*M! ... */) in a statement, without the admin grant: the gateway could not check what they run'")
	}
	v := restrictedVisitor{who: who, sql: sql, command: commandOf(stmt)}
	stmt.Accept(&v)
	return v.err
}

// restricted schemas: mysql (accounts, grants, the replication user's
// hash), sys (server internals), _shardgate (the resharding's positions,
// written by the controller only). performance_schema may be read (the
// shard's account decides what it shows), not written.
func restrictedSchema(schema, command string) bool {
	switch strings.ToLower(schema) {
	case "mysql", "sys", "_shardgate":
		return true
	case "performance_schema":
		return command != "SELECT"
	}
	return false
}

// commandOf names a statement's command as MySQL's 1142 does.
func commandOf(stmt ast.StmtNode) string {
	switch stmt.(type) {
	case *ast.InsertStmt, *ast.LoadDataStmt:
		return "INSERT"
	case *ast.UpdateStmt:
		return "UPDATE"
	case *ast.DeleteStmt, *ast.TruncateTableStmt:
		return "DELETE"
	case *ast.CreateTableStmt, *ast.CreateViewStmt, *ast.CreateIndexStmt:
		return "CREATE"
	case *ast.DropTableStmt, *ast.DropIndexStmt:
		return "DROP"
	case *ast.AlterTableStmt, *ast.RenameTableStmt:
		return "ALTER"
	}
	return "SELECT"
}

type restrictedVisitor struct {
	who     string
	sql     string
	command string
	err     error
}

func (v *restrictedVisitor) Enter(n ast.Node) (ast.Node, bool) {
	if v.err == nil {
		v.err = v.check(n)
	}
	return n, v.err != nil
}

func (v *restrictedVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, v.err == nil }

// check refuses one node, or returns nil.
func (v *restrictedVisitor) check(n ast.Node) error {
	switch n := n.(type) {
	case *ast.ShutdownStmt, *ast.RestartStmt:
		return needPrivilege("SHUTDOWN")
	case *ast.CreateUserStmt, *ast.DropUserStmt, *ast.AlterUserStmt, *ast.RenameUserStmt,
		*ast.SetRoleStmt, *ast.SetDefaultRoleStmt:
		return needPrivilege("CREATE USER")
	case *ast.GrantStmt, *ast.GrantRoleStmt, *ast.GrantProxyStmt, *ast.RevokeStmt, *ast.RevokeRoleStmt:
		return needPrivilege("GRANT OPTION")
	case *ast.SetPwdStmt:
		return v.deniedDatabase("mysql")
	case *ast.FlushStmt:
		return needPrivilege("RELOAD")
	case *ast.BinlogStmt:
		return needPrivilege("SUPER, BINLOG REPLAY")
	case *ast.CreateDatabaseStmt:
		return v.deniedDatabase(n.Name.O)
	case *ast.DropDatabaseStmt:
		return v.deniedDatabase(n.Name.O)
	case *ast.AlterDatabaseStmt:
		return v.deniedDatabase(n.Name.O)
	case *ast.LoadDataStmt:
		if n.FileLocRef != ast.FileLocClient {
			return needPrivilege("FILE") // the shard's file system, not the client's
		}
	case *ast.SelectStmt:
		// The walk does not visit SelectIntoOpt (a UNION's INTO is its
		// last SELECT's).
		if o := n.SelectIntoOpt; o != nil && (o.Tp == ast.SelectIntoOutfile || o.Tp == ast.SelectIntoDumpfile) {
			return needPrivilege("FILE")
		}
	case *ast.TableOption:
		return tableOption(n)
	case *ast.CreateTableStmt:
		return tableOptions(n.Options, n.Partition)
	case *ast.AlterTableSpec:
		return tableOptions(n.Options, n.Partition)
	case *ast.FuncCallExpr:
		if n.FnName.L == "load_file" {
			return needPrivilege("FILE")
		}
		if restrictedSchema(n.Schema.O, "EXECUTE") {
			return sqlerror.New(sqlerror.User, mysql.ER_PROCACCESS_DENIED_ERROR,
				"execute command denied to user %s for routine '%s.%s'", v.who, n.Schema.O, n.FnName.O)
		}
	case *ast.TableName:
		if restrictedSchema(n.Schema.O, v.command) {
			return v.deniedTable(n.Schema.O, n.Name.O)
		}
		if n.Schema.L == "information_schema" && n.Name.L == "processlist" {
			// Every client's shard threads run as the gateway's account:
			// the shard would show them all. SHOW PROCESSLIST is the
			// gateway's own.
			return needPrivilege("PROCESS")
		}
	case *ast.SetStmt:
		for _, va := range n.Variables {
			if va.IsGlobal || va.IsInstance {
				return needPrivilege("SUPER")
			}
			if va.IsSystem && replicationVariable(va.Name) {
				return needPrivilege("SUPER, BINLOG ADMIN")
			}
		}
	case *ast.ShowStmt:
		return v.show(n)
	case *ast.ProcedureInfo:
		// A routine runs with its definer's rights (the gateway's shard
		// account), later, on CALL: its body must be checked now. The
		// walk does not see into compound bodies (BEGIN ... END, IF,
		// loops): those are checked by their words, as the routine
		// definitions the parser cannot read are.
		switch n.ProcedureBody.(type) {
		case *ast.SelectStmt, *ast.SetOprStmt, *ast.InsertStmt, *ast.UpdateStmt, *ast.DeleteStmt, *ast.SetStmt, *ast.DoStmt:
		default:
			return CheckRestrictedRoutine(v.sql)
		}
	}
	return nil
}

// show refuses the SHOWs of replication state, of others' grants and of
// the restricted schemas.
func (v *restrictedVisitor) show(n *ast.ShowStmt) error {
	switch n.Tp {
	case ast.ShowMasterStatus, ast.ShowBinlogStatus:
		return needPrivilege("SUPER, BINLOG MONITOR")
	case ast.ShowReplicaStatus:
		return needPrivilege("SUPER, SLAVE MONITOR")
	case ast.ShowGrants:
		if n.User != nil && !n.User.CurrentUser {
			return v.deniedDatabase("mysql")
		}
	}
	if n.DBName != "" && restrictedSchema(n.DBName, "SELECT") {
		return v.deniedDatabase(n.DBName)
	}
	return nil
}

// tableOptions refuses DATA DIRECTORY and INDEX DIRECTORY, of a table or
// of its partitions: they put files where the client says on the shard's
// file system (MariaDB lets an account without FILE do it).
func tableOptions(opts []*ast.TableOption, part *ast.PartitionOptions) error {
	for _, o := range opts {
		if err := tableOption(o); err != nil {
			return err
		}
	}
	if part == nil {
		return nil
	}
	for _, d := range part.Definitions {
		for _, o := range d.Options {
			if err := tableOption(o); err != nil {
				return err
			}
		}
	}
	return nil
}

func tableOption(o *ast.TableOption) error {
	if o.Tp == ast.TableOptionDataDirectory || o.Tp == ast.TableOptionIndexDirectory {
		return needPrivilege("FILE")
	}
	return nil
}

// replicationVariable names the session variables that change what the
// shard writes to its binlog or how it replicates: a client setting them
// on a shard connection could make replicas diverge.
func replicationVariable(name string) bool {
	name = strings.ToLower(name)
	switch name {
	case "sql_log_bin", "binlog_format", "skip_replication", "server_id", "sql_slave_skip_counter",
		"pseudo_thread_id", "pseudo_slave_mode", "debug", "debug_dbug", "slave_skip_errors":
		return true
	}
	return strings.HasPrefix(name, "gtid_") || strings.HasPrefix(name, "binlog_") || strings.HasPrefix(name, "wsrep_")
}

// needPrivilege is MySQL's 1227 naming the privilege(s) missing.
func needPrivilege(privileges string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR,
		"Access denied; you need (at least one of) the %s privilege(s) for this operation", privileges)
}

func (v *restrictedVisitor) deniedDatabase(db string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_DBACCESS_DENIED_ERROR, "Access denied for user %s to database '%s'", v.who, db)
}

func (v *restrictedVisitor) deniedTable(schema, table string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_TABLEACCESS_DENIED_ERROR,
		"%s command denied to user %s for table `%s`.`%s`", v.command, v.who, schema, table)
}

// neverRunByMariaDB tells whether a `/*M!` comment's version (the digits
// that follow it) is one no MariaDB server has: MariaDB runs the comment
// when the version is absent or at most its own (100616 is 10.6.16), so
// mariadb-dump's `/*M!999999\- enable the sandbox mode */` is a plain
// comment everywhere. Anything from 20.0.0 on counts as never.
func neverRunByMariaDB(rest string) bool {
	n := 0
	for n < len(rest) && n < 6 && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	return n == 6 && rest[:n] >= "200000"
}

// hasMariaDBExecutableComment tells whether sql has a `/*M!` comment
// outside strings and quoted names (scanned as checkDepth does).
func hasMariaDBExecutableComment(sql string) bool {
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			// Escapes as in the default mode: a backslash in a string only
			// ever makes the scan see a comment where there is none, which
			// refuses more, never less.
			i = skipQuoted(sql, i, false)
		case c == '#' || c == '-' && i+2 < len(sql) && sql[i+1] == '-' && (sql[i+2] == ' ' || sql[i+2] == '\t' || sql[i+2] == '\n'):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				return false
			}
			i += j + 1
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			if strings.HasPrefix(sql[i:], "/*M!") && !neverRunByMariaDB(sql[i+4:]) {
				return true
			}
			if strings.HasPrefix(sql[i:], "/*!") || strings.HasPrefix(sql[i:], "/*+") {
				i += 3 // executed (or read as hints): scanned as text
				continue
			}
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return false
			}
			i += j + 4
		default:
			i++
		}
	}
	return false
}
