package gateway_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet"
)

// TestRestrictedStatementsNeverReachAShard replays issue 15's finding 5
// ("everyone is root on every shard") through shard targeting (`USE
// service:-40`) and through an unsharded keyspace (global, where
// statements pass as written), with the text and the prepared protocol:
// each statement answers MySQL's access-denied error, and the shard,
// checked directly as root, is unchanged — its primary up, no user
// created, no file written, read_only untouched. A user named in
// AdminUsers passes the check (a gateway logging in to the shards as
// root then runs them); behind the app account the shard still refuses
// them itself. (The client is a user with keyspace grants, admin on
// service included, but no admin on every keyspace: nonAdminClient.)
func TestRestrictedStatementsNeverReachAShard(t *testing.T) {
	env := shared.Get(t)
	outfile := filepath.Join(t.TempDir(), "leak.txt")
	type refusal struct {
		sql  string
		code uint16
	}
	refused := []refusal{
		{"SHUTDOWN", 1227},
		{"CREATE USER 'evil'@'%' IDENTIFIED BY 'x'", 1227},
		{"GRANT ALL PRIVILEGES ON *.* TO 'shardgate_app'@'127.0.0.1' WITH GRANT OPTION", 1227},
		{"SELECT 1 INTO OUTFILE '" + outfile + "'", 1227},
		{"SELECT LOAD_FILE('/etc/hostname')", 1227},
		{"SELECT user, password FROM mysql.user", 1142},
		{"SET GLOBAL read_only = ON", 1227},
		{"FLUSH TABLES", 1227},
		{"SET sql_log_bin = 0", 1227},
		{"SHOW GRANTS FOR 'repl'@'127.0.0.1'", 1044},
		{"SELECT id FROM information_schema.processlist", 1227},
		// Hidden: in a subquery, in MySQL's and MariaDB's executable
		// comments.
		{"SELECT 1 FROM dual WHERE 1 = (SELECT LENGTH(LOAD_FILE('/etc/hostname')))", 1227},
		{"SELECT 1 /*!50000 , LOAD_FILE('/etc/hostname') */", 1227},
		{"SELECT 1 /*M! , LOAD_FILE('/etc/hostname') */", 1235},
		// A routine body only MariaDB parses goes to the shard as text:
		// checked by its words.
		{"CREATE PROCEDURE leak() BEGIN SELECT authentication_string FROM mysql.user; END", 1235},
		// Several statements in one COM_QUERY: the second is refused.
		{"SELECT 1; SHUTDOWN", 1227},
	}
	for _, target := range []struct{ db, keyspace, shard string }{
		{"service:-40", "service", "-40"},
		{"global", "global", "0"},
	} {
		t.Run(target.db, func(t *testing.T) {
			gw := nonAdminClient(t, target.db, "multiStatements=true")
			for _, r := range refused {
				_, err := gw.Exec(r.sql)
				wantRefused(t, r.sql, err, r.code)
			}
			// The prepared protocol refuses at COM_STMT_PREPARE.
			stmt, err := gw.Prepare("SELECT LOAD_FILE(?)")
			if err == nil {
				stmt.Close()
			}
			wantRefused(t, "prepare SELECT LOAD_FILE(?)", err, 1227)
			// VEXPLAIN ALL runs its statement.
			_, err = gw.Exec("VEXPLAIN ALL SELECT LOAD_FILE('/etc/hostname')")
			wantRefused(t, "VEXPLAIN ALL SELECT LOAD_FILE(...)", err, 1227)

			root := env.ShardDB(t, target.keyspace, target.shard, "")
			if got := queryStrings(t, root, "SELECT COUNT(*) FROM mysql.user WHERE user = 'evil'")[0][0]; got != "0" {
				t.Errorf("user evil exists on the shard")
			}
			if got := queryStrings(t, root, "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_NAME = 'leak'")[0][0]; got != "0" {
				t.Errorf("procedure leak exists on the shard")
			}
			if got := queryStrings(t, root, "SELECT @@global.read_only")[0][0]; got != "0" {
				t.Errorf("@@global.read_only = %s on the shard, want 0", got)
			}
			grants := queryStrings(t, root, "SHOW GRANTS FOR 'shardgate_app'@'127.0.0.1'")
			for _, g := range grants {
				if strings.Contains(g[0], "ON *.*") && strings.Contains(g[0], "ALL PRIVILEGES") {
					t.Errorf("the app account got %s", g[0])
				}
			}
			if _, err := os.Stat(outfile); err == nil {
				t.Errorf("INTO OUTFILE wrote %s", outfile)
			}
			// The shard is up and the session still serves.
			mustExec(t, root, "SELECT 1")
			if got := queryStrings(t, gw, "SELECT 1 + 1")[0][0]; got != "2" {
				t.Errorf("SELECT 1 + 1 after the refusals = %s", got)
			}
		})
	}

	// The gateway's traffic runs as the app account.
	targeted := shared.db(t, "service:-40", "")
	if got := queryStrings(t, targeted, "SELECT CURRENT_USER()")[0][0]; got != tablet.AppUser+"@127.0.0.1" {
		t.Errorf("CURRENT_USER() through the gateway = %s, want %s@127.0.0.1", got, tablet.AppUser)
	}

	// An admin passes the check. Behind root, the statement runs; behind
	// the app account, the shard refuses it itself.
	for _, tc := range []struct {
		name    string
		backend gateway.BackendConfig
		code    uint16 // 0: runs
	}{
		{"admin behind root", gateway.BackendConfig{User: "root"}, 0},
		{"admin behind the app account", gateway.BackendConfig{User: env.Cluster.AppConn().User, Password: env.Cluster.AppConn().Password}, 1142},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: env.Cluster.Store, Backend: tc.backend, AdminUsers: []string{"root"}})
			if err == nil {
				err = srv.Start(context.Background())
			}
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/%s", srv.Addr(), "service:-40"))
			rows, err := db.Query("SELECT COUNT(*) FROM mysql.user WHERE user = 'repl'")
			if tc.code != 0 {
				wantRefused(t, "admin's SELECT FROM mysql.user", err, tc.code)
				return
			}
			if err != nil {
				t.Fatalf("admin's SELECT FROM mysql.user: %v", err)
			}
			rows.Close()
			if got := queryStrings(t, db, "SELECT LOAD_FILE('/etc/hostname') IS NOT NULL")[0][0]; got != "1" {
				t.Errorf("admin's LOAD_FILE through a root backend returned NULL")
			}
		})
	}
}

// TestAppAccountCannotAdministerTheShard: even if the gateway's check were
// bypassed, the account the gateway logs in with cannot shut a shard down
// or read mysql.user (logged in as it directly, as the gateway does).
func TestAppAccountCannotAdministerTheShard(t *testing.T) {
	env := shared.Get(t)
	in := env.Cluster.Primary("service", "-40")
	app := env.Cluster.AppConn()
	db := gatewaytest.Open(t, fmt.Sprintf("%s:%s@tcp(%s)/service", app.User, app.Password, in.Mysqld.Addr()))
	_, err := db.Exec("SHUTDOWN")
	wantRefused(t, "SHUTDOWN as the app account", err, 1227)
	_, err = db.Query("SELECT password FROM mysql.user")
	wantRefused(t, "SELECT FROM mysql.user as the app account", err, 1142)
	mustExec(t, env.ShardDB(t, "service", "-40", ""), "SELECT 1") // still up
}

// nonAdminClient opens a handle on the shared gateway as a user with
// read, write and ddl on global and service and admin on service (so it
// may target service's shards), but no admin on every keyspace: what
// restricted statements need (root, a bootstrap user, has it).
func nonAdminClient(t *testing.T, database, params string) *sql.DB {
	t.Helper()
	addUser(t, shared.Get(t).Gateway.Addr(), "restricted_user", acl.NativePassword, "r-pw",
		grant("service", "", "read", "write", "ddl", "admin"), grant("global", "", "read", "write", "ddl"))
	return gatewaytest.Open(t, fmt.Sprintf("restricted_user:r-pw@tcp(%s)/%s?%s", shared.Get(t).Gateway.Addr(), database, params))
}

func wantRefused(t *testing.T, what string, err error, code uint16) {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != code {
		t.Errorf("%s: got %v, want error %d", what, err, code)
	}
}
