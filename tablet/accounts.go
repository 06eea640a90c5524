package tablet

import (
	"context"
	"fmt"
	"strings"
)

// AppUser is the name of the least-privileged account gateways log in to
// local instances with (issue 15, "least privilege toward the shards").
const AppUser = "shardgate_app"

// AppPrivileges are what a gateway's application traffic needs on a
// keyspace's database: rows, schema changes through the gateway (DDL runs
// on every shard), views, triggers and routines. Deliberately absent:
// FILE (INTO OUTFILE, LOAD_FILE, LOAD DATA INFILE), SUPER, SHUTDOWN,
// PROCESS, RELOAD, CREATE USER, GRANT OPTION, REPLICATION SLAVE/CLIENT,
// BINLOG ADMIN, READ_ONLY ADMIN and any right on the mysql database.
//
// XA needs nothing more: on MariaDB 10.11 an account without SUPER may
// XA START/END/PREPARE/COMMIT its own branches, and XA RECOVER lists, and
// XA COMMIT/ROLLBACK finishes, the branches other connections prepared
// (checked by TestAppAccountRights), so the gateway's 2PC resolver runs
// with it too. KILL QUERY of its own threads needs nothing either.
const AppPrivileges = "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, " +
	"CREATE TEMPORARY TABLES, LOCK TABLES, REFERENCES, CREATE VIEW, SHOW VIEW, " +
	"TRIGGER, EXECUTE, CREATE ROUTINE, ALTER ROUTINE"

// AppGlobalPrivileges are granted ON *.*: SLAVE MONITOR (MariaDB 10.5.9+;
// MySQL's REPLICATION CLIENT) lets the gateway's health check read SHOW
// REPLICA STATUS for replica lag. It only reads replication state; it
// starts, stops and changes nothing.
const AppGlobalPrivileges = "SLAVE MONITOR"

// AppAccount is an account Start creates for a gateway's application
// traffic (MysqldConfig.App).
type AppAccount struct {
	User     string
	Password string
	// Databases are the ones it may use (AppPrivileges on each): the
	// instance's keyspace. They need not exist yet.
	Databases []string
}

// appAccountStatements create the account, (re)set its password and grant
// its rights; every statement is idempotent, so they run on every Start
// (an instance initialised before the account existed gets it then).
func appAccountStatements(a *AppAccount) []string {
	var qs []string
	// The hosts it may log in from: the loopback address the instances
	// listen on, and the unix socket.
	for _, host := range []string{"127.0.0.1", "localhost"} {
		who := quoteString(a.User) + "@" + quoteString(host)
		qs = append(qs,
			"CREATE USER IF NOT EXISTS "+who+" IDENTIFIED BY "+quoteString(a.Password),
			// A cluster whose password file was replaced keeps working.
			"ALTER USER "+who+" IDENTIFIED BY "+quoteString(a.Password),
			"GRANT "+AppGlobalPrivileges+" ON *.* TO "+who,
		)
		for _, db := range a.Databases {
			qs = append(qs, "GRANT "+AppPrivileges+" ON "+quoteGrantDB(db)+".* TO "+who)
		}
	}
	return qs
}

// createAppAccount runs appAccountStatements on an admin connection whose
// binary log is off for the session (createUsers).
func (m *Mysqld) createAppAccount(ctx context.Context, admin *Conn) error {
	if m.cfg.App == nil {
		return nil
	}
	for _, q := range appAccountStatements(m.cfg.App) {
		if _, err := admin.Execute(ctx, q); err != nil {
			// The statement holds the password: name the account only.
			return fmt.Errorf("tablet: start %s: account %s: %w", m.cfg.Dir, m.cfg.App.User, err)
		}
	}
	return nil
}

// quoteGrantDB quotes a database name for GRANT ... ON `db`.*, where _ and
// % are wildcards: escaped, so a grant on `a_b` is not one on `axb`.
func quoteGrantDB(db string) string {
	db = strings.ReplaceAll(db, `\`, `\\`)
	db = strings.ReplaceAll(db, "_", `\_`)
	db = strings.ReplaceAll(db, "%", `\%`)
	return "`" + strings.ReplaceAll(db, "`", "``") + "`"
}
