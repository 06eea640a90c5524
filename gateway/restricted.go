package gateway

import (
	"net"
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/planner"
)

// Statements only an administrator may send toward the shards (SHUTDOWN,
// user and grant management, INTO OUTFILE, LOAD_FILE, SET GLOBAL, the
// mysql database, ...: planner.CheckRestricted, docs/SECURITY.md) are
// refused here for everyone else, before any shard sees them, whatever
// the target: `USE ks:-80` and unsharded keyspaces pass statements to a
// shard as written. Every path to a shard checks: buildPlan (COM_QUERY,
// COM_STMT_EXECUTE, COM_FIELD_LIST), the plan cache, which never keeps
// a restricted statement's plan (so an admin's cached plan is never a
// way around the check), COM_STMT_PREPARE and VEXPLAIN's statement. The
// one text that reaches a shard unparsed, a stored routine definition
// whose body only MariaDB reads (routine.go), is checked word by word;
// any other text the parser cannot parse never reaches a shard (1064).

// mayRunRestricted tells whether the session's user may run restricted
// statements: a user named in Config.AdminUsers (--admin-users), or one
// with the admin grant on every keyspace (`shardctl grant NAME --keyspace
// '*' --privileges admin`; a bootstrap user has every grant). The admin of
// one keyspace may target its shards, not administer the instances.
func (s *session) mayRunRestricted() bool {
	return slices.Contains(s.srv.cfg.AdminUsers, s.user) || s.isAdmin(acl.AllKeyspaces)
}

// checkRestricted refuses stmt (whose text a shard would get as sql) if
// the session's user may not run it.
func (s *session) checkRestricted(stmt ast.StmtNode, sql string) error {
	if s.mayRunRestricted() {
		return nil
	}
	return planner.CheckRestricted(stmt, sql, s.who())
}

// checkRestrictedRoutine checks a routine definition sent to a shard as
// text, unparsed (routine.go), by its words.
func (s *session) checkRestrictedRoutine(text string) error {
	if s.mayRunRestricted() {
		return nil
	}
	return planner.CheckRestrictedRoutine(text)
}

// checkRestrictedVExplain checks the statement a VEXPLAIN explains (and
// VEXPLAIN ALL / QUERIES EXECUTE run); sql that is no VEXPLAIN, or whose
// statement does not parse (BuildVitess reports that), passes.
func (s *session) checkRestrictedVExplain(sql string) error {
	explained, ok := planner.VExplainStatement(sql)
	if !ok || s.mayRunRestricted() {
		return nil
	}
	stmts, err := s.parser.Parse(explained)
	if err != nil {
		return nil
	}
	for _, st := range stmts {
		if err := planner.CheckRestricted(st, explained, s.who()); err != nil {
			return err
		}
	}
	return nil
}

// who is the client as MySQL's access errors name it: 'user'@'host'.
func (s *session) who() string {
	host := s.host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return "'" + s.user + "'@'" + host + "'"
}
