package gateway

import (
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
)

// What a session's user may do (issue 15): the grants of package acl,
// checked once per statement where its plan is known (authorize, called
// by execPlan and runAnswer, the two places every plan runs), and by the
// session commands that are not plans (USE, KILL, SHOW PROCESSLIST).

// loggedIn records a successful login (the handshake's, or
// COM_CHANGE_USER's) and then answers the database the handshake named,
// which nothing looked at before (issue 15, finding 6).
func (s *session) loggedIn(user string, acct *acl.Account, tls bool) error {
	s.user, s.account, s.tls, s.authed = user, acct, tls, true
	s.stmt.mu.Lock()
	s.stmt.user = user // SHOW PROCESSLIST
	s.stmt.mu.Unlock()
	if s.pre != nil {
		s.loginHost = hostOf(s.pre.RemoteAddr())
	}
	db := s.pendingDB
	s.pendingDB = nil
	if db == nil || *db == "" {
		return nil
	}
	return s.UseDB(*db)
}

// privileges is the session user's account as it stands now: grants
// changed in etcd apply to the next statement of open sessions. A user
// removed since the login keeps its login's grants until it disconnects,
// as a dropped MySQL user's open sessions do; so does every session of
// --insecure-no-auth.
func (s *session) privileges() *acl.Account {
	if h := s.srv.auth; h != nil && !h.insecure {
		if a := s.srv.auth.users.Load().Lookup(s.user); a != nil {
			return a
		}
	}
	return s.account
}

// isAdmin says whether the session's user holds the admin grant on
// keyspace (empty: on some keyspace): what shard targeting and the
// statements the gateway refuses to everyone else need.
func (s *session) isAdmin(keyspace string) bool {
	a := s.privileges()
	if a == nil {
		return false
	}
	if keyspace == "" {
		return a.AdminAnywhere()
	}
	return a.Allowed(keyspace, "", acl.Admin)
}

// authorize checks a plan against the session's grants: every table it
// reads, writes or redefines (1142), the keyspace whose tables it lists
// (1044), and the admin grant the operator statements need (1227).
func (s *session) authorize(plan *planner.Plan) error {
	a := s.privileges()
	if a == nil {
		return errNeedPrivilege("admin")
	}
	for _, t := range plan.Access {
		if a.Allowed(t.Keyspace, t.Table, accessPrivilege(t.Kind)) {
			continue
		}
		if t.Table == "" {
			return errDBDenied(s.user, s.loginHost, t.Keyspace)
		}
		return errTableDenied(t.Command, s.user, s.loginHost, t.Table)
	}
	if ks := plan.ListsTables; ks != "" && !a.AnyGrant(ks) {
		return errDBDenied(s.user, s.loginHost, ks)
	}
	if plan.Admin && !a.AdminAnywhere() {
		return errNeedPrivilege("admin")
	}
	return nil
}

func accessPrivilege(k planner.AccessKind) acl.Privilege {
	switch k {
	case planner.AccessWrite:
		return acl.Write
	case planner.AccessDDL:
		return acl.DDL
	}
	return acl.Read
}

// mayDefineRoutine checks a stored routine definition sent as text (the
// parser could not read it: routine.go): a keyspace-wide ddl grant.
func (s *session) mayDefineRoutine(ks string) error {
	if a := s.privileges(); a == nil || !a.Allowed(ks, "", acl.DDL) {
		return errDBDenied(s.user, s.loginHost, ks)
	}
	return nil
}

// mayUse checks USE (and the handshake's database): some grant on the
// keyspace (1044), and admin for a shard target (`ks:-80`); `ks@replica`
// needs nothing more.
func (s *session) mayUse(db, ks, shard string) error {
	if ks == "" {
		return nil
	}
	a := s.privileges()
	if a == nil || !a.AnyGrant(ks) {
		return errDBDenied(s.user, s.loginHost, db)
	}
	if shard != "" && !a.Allowed(ks, "", acl.Admin) {
		return errDBDenied(s.user, s.loginHost, db)
	}
	return nil
}

// seesKeyspace says whether SHOW DATABASES lists ks to the session.
func (s *session) seesKeyspace(ks string) bool {
	a := s.privileges()
	return a != nil && a.AnyGrant(ks)
}

// filterTables keeps the rows of a SHOW TABLES / SHOW TABLE STATUS of
// keyspace ks (table name first) whose table the user may read.
func (s *session) filterTables(res *engine.Result, ks string) {
	a := s.privileges()
	if a == nil || res == nil || a.Allowed(ks, "", acl.Read) {
		return
	}
	kept := res.Rows[:0]
	for _, row := range res.Rows {
		if len(row) > 0 && a.Allowed(ks, string(row[0]), acl.Read) {
			kept = append(kept, row)
		}
	}
	res.Rows = kept
}

// errTableDenied is MySQL's 1142, in its words.
func errTableDenied(command, user, host, table string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_TABLEACCESS_DENIED_ERROR,
		"%s command denied to user '%s'@'%s' for table '%s'", command, user, host, table)
}

// errDBDenied is MySQL's 1044.
func errDBDenied(user, host, db string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_DBACCESS_DENIED_ERROR,
		"Access denied for user '%s'@'%s' to database '%s'", user, host, db)
}

// errNeedPrivilege is MySQL's 1227, naming the grant that is missing.
func errNeedPrivilege(privilege string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR,
		"Access denied; you need (at least one of) the %s privilege(s) for this operation", privilege)
}

// Grants answers SHOW GRANTS from the gateway's users: the session's own
// account for "" (and CURRENT_USER), another user's for an admin (the
// planner refuses SHOW GRANTS FOR another user to everyone else). The
// shard account's grants are the gateway's business, never shown.
func (vc *vcursor) Grants(user string) (string, []string, error) {
	s := vc.s
	a := s.privileges()
	if user != "" && user != s.user {
		a = nil
		if h := s.srv.auth; h != nil && !h.insecure {
			a = h.users.Load().Lookup(user)
		}
		if a == nil {
			return "", nil, sqlerror.New(sqlerror.User, mysql.ER_NONEXISTING_GRANT,
				"There is no such grant defined for user '%s' on host '%%'", user)
		}
	}
	if a == nil {
		return "", nil, errNeedPrivilege("admin")
	}
	return a.Name + "@%", a.GrantStatements("%"), nil
}
