package tablet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestAppAccountRights starts an instance with the app account and checks,
// logged in as that account directly (no gateway in between), that it can
// do what a gateway's traffic needs — rows, DDL, XA including recovering
// and committing a branch another connection prepared, KILL QUERY of its
// own threads, the replication status the health check reads — and none
// of what finding 5 of issue 15 did as root: SHUTDOWN, CREATE USER, GRANT,
// INTO OUTFILE, LOAD_FILE, SET GLOBAL, reading mysql.user. A restart keeps
// the account and its rights (the statements are idempotent).
func TestAppAccountRights(t *testing.T) {
	dir := t.TempDir()
	app := &tablet.AppAccount{User: tablet.AppUser, Password: "s3cret'pw", Databases: []string{"ks_a"}}
	m := tablet.NewMysqld(tablet.MysqldConfig{Dir: dir, App: app, Logger: tablettest.Logger(t)})
	ctx, cancel := context.WithTimeout(context.Background(), tablettest.StartTimeout)
	defer cancel()
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), tablettest.StopTimeout)
		defer scancel()
		if err := m.Stop(sctx); err != nil {
			t.Error(err)
		}
	})
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	root := dial(t, ctx, m.ConnConfig())
	for _, q := range []string{"CREATE DATABASE ks_a", "CREATE DATABASE ksxa", "CREATE TABLE ks_a.t (id INT PRIMARY KEY, v INT)"} {
		mustExecute(t, ctx, root, q)
	}

	appCfg := tablet.ConnConfig{Addr: m.Addr(), User: app.User, Password: app.Password}
	a := dial(t, ctx, appCfg)
	if got := query1(t, ctx, a, "SELECT CURRENT_USER()"); got != "shardgate_app@127.0.0.1" {
		t.Errorf("CURRENT_USER() = %q, want shardgate_app@127.0.0.1", got)
	}
	for _, q := range []string{
		"INSERT INTO ks_a.t VALUES (1, 1)", "UPDATE ks_a.t SET v = 2 WHERE id = 1", "SELECT * FROM ks_a.t FOR UPDATE",
		"CREATE TABLE ks_a.u (id INT PRIMARY KEY)", "ALTER TABLE ks_a.u ADD COLUMN w INT", "CREATE INDEX iw ON ks_a.u (w)",
		"CREATE VIEW ks_a.vu AS SELECT id FROM ks_a.u", "DROP VIEW ks_a.vu", "DROP TABLE ks_a.u",
		"SHOW SLAVE STATUS", "SELECT @@global.read_only",
		// A branch prepared here, then recovered and committed by another
		// connection once this one is gone (the 2PC resolver's path).
		"XA START 'sg1'", "INSERT INTO ks_a.t VALUES (2, 2)", "XA END 'sg1'", "XA PREPARE 'sg1'",
	} {
		mustExecute(t, ctx, a, q)
	}
	a.Close()
	b := dial(t, ctx, appCfg)
	if r, err := b.Execute(ctx, "XA RECOVER"); err != nil || len(r.Rows) != 1 {
		t.Fatalf("XA RECOVER as the app account: %v rows, err %v; want the one prepared branch", r, err)
	}
	mustExecute(t, ctx, b, "XA COMMIT 'sg1'")
	if got := query1(t, ctx, root, "SELECT COUNT(*) FROM ks_a.t"); got != "2" {
		t.Errorf("rows after the recovered XA COMMIT: %s, want 2", got)
	}

	// KILL QUERY of its own statement from another connection (what
	// tablet.Conn does when a statement's context ends).
	c := dial(t, ctx, appCfg)
	done := make(chan error, 1)
	go func() { _, err := c.Execute(context.Background(), "SELECT SLEEP(30)"); done <- err }()
	time.Sleep(300 * time.Millisecond)
	mustExecute(t, ctx, b, "KILL QUERY "+query1(t, ctx, b, "SELECT id FROM information_schema.processlist WHERE info = 'SELECT SLEEP(30)'"))
	var killed *mysql.MyError
	if err := <-done; !errors.As(err, &killed) || killed.Code != mysql.ER_QUERY_INTERRUPTED {
		t.Fatalf("SLEEP after KILL QUERY: %v, want error 1317", err)
	}

	outfile := filepath.Join(dir, "out.txt")
	for _, tc := range []struct {
		q    string
		code uint16
	}{
		{"SHUTDOWN", mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR},
		{"CREATE USER 'evil'@'%' IDENTIFIED BY 'x'", mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR},
		{"GRANT ALL ON *.* TO 'shardgate_app'@'127.0.0.1'", mysql.ER_ACCESS_DENIED_ERROR},
		{"SELECT 1 INTO OUTFILE '" + outfile + "'", mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR},
		{"LOAD DATA INFILE '/etc/hostname' INTO TABLE ks_a.t", mysql.ER_ACCESS_DENIED_ERROR},
		{"SET GLOBAL read_only = ON", mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR},
		{"SET SESSION sql_log_bin = 0", mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR},
		{"FLUSH TABLES", mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR},
		{"STOP SLAVE", mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR},
		{"SELECT * FROM mysql.user", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"CREATE TABLE ksxa.t (id INT)", mysql.ER_TABLEACCESS_DENIED_ERROR}, // `ks_a`'s _ is no wildcard
		{"CREATE DATABASE other", mysql.ER_DBACCESS_DENIED_ERROR},
	} {
		_, err := b.Execute(ctx, tc.q)
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != tc.code {
			t.Errorf("%s as the app account: %v, want error %d", tc.q, err, tc.code)
		}
	}
	if got := query1(t, ctx, b, "SELECT LOAD_FILE('/etc/hostname') IS NULL"); got != "1" {
		t.Errorf("LOAD_FILE as the app account read the file")
	}
	if _, err := os.Stat(outfile); err == nil {
		t.Errorf("INTO OUTFILE wrote %s", outfile)
	}
	b.Close()
	c.Close()

	// Restart: the account is kept and the statements run again.
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatalf("restart with the account already there: %v", err)
	}
	d := dial(t, ctx, appCfg)
	mustExecute(t, ctx, d, "SELECT * FROM ks_a.t")
	if !m.Running() {
		t.Fatal("mariadbd not running after the app account's statements")
	}
}

func dial(t *testing.T, ctx context.Context, cfg tablet.ConnConfig) *tablet.Conn {
	t.Helper()
	c, err := tablet.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("log in as %s: %v", cfg.User, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustExecute(t *testing.T, ctx context.Context, c *tablet.Conn, q string) {
	t.Helper()
	if _, err := c.Execute(ctx, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func query1(t *testing.T, ctx context.Context, c *tablet.Conn, q string) string {
	t.Helper()
	r, err := c.Execute(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(r.Rows) != 1 || len(r.Rows[0]) != 1 {
		t.Fatalf("%s: %d rows, want one value", q, len(r.Rows))
	}
	return string(r.Rows[0][0])
}
