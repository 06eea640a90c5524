package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/gateway"
)

// TestUserCommandsTakeEffectWithoutRestart: a user added with `shardctl
// user add` (and granted) logs in to a running gateway; `user list`
// shows its method and grants, never its hash; after `user remove` the
// same login is 1045, with no restart in between.
func TestUserCommandsTakeEffectWithoutRestart(t *testing.T) {
	gw, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: store(t), NoDefaultUser: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer gw.Close()

	login := func(user, password string) error {
		db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", user, password, gw.Addr()))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return db.Ping()
	}
	waitLogin := func(user, password string, want uint16) error {
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := login(user, password)
			var me *mysqldriver.MySQLError
			got := uint16(0)
			if errors.As(err, &me) {
				got = me.Number
			}
			if got == want || time.Now().After(deadline) {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	if err := login("alice", "s3cret"); err == nil {
		t.Fatal("alice logged in before she was added")
	}
	mustCtl(t, "user", "add", "alice", "--password", "s3cret")
	mustCtl(t, "user", "add", "bob", "--password", "b0b", "--auth-method", "caching_sha2_password")
	if out := mustCtl(t, "grant", "alice", "--keyspace", "ks", "--privileges", "read,write"); !strings.Contains(out, "ks.*: read,write") {
		t.Errorf("grant output: %q", out)
	}
	mustCtl(t, "grant", "alice", "--keyspace", "ks", "--table", "t", "--privileges", "ddl")
	if out := mustCtl(t, "revoke", "alice", "--keyspace", "ks", "--privileges", "write"); !strings.Contains(out, "ks.*: read") {
		t.Errorf("revoke output: %q", out)
	}
	if err := waitLogin("alice", "s3cret", 0); err != nil {
		t.Fatalf("alice after user add: %v", err)
	}
	list := mustCtl(t, "user", "list")
	want := []string{
		"USER AUTH METHOD PASSWORD GRANTS",
		"alice mysql_native_password yes ks.*:read ks.t:ddl",
		"bob caching_sha2_password yes -",
	}
	if got := lines(list); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("user list: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	users, err := store(t).ListUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		// Stored as MySQL stores them, and never shown.
		native := u.AuthMethod == "mysql_native_password" && len(u.PasswordHash) == 41 && u.PasswordHash[0] == '*'
		sha2 := u.AuthMethod == "caching_sha2_password" && strings.HasPrefix(u.PasswordHash, "$A$005$")
		if !native && !sha2 {
			t.Errorf("user %s: stored hash %q is not MySQL's %s format", u.Name, u.PasswordHash, u.AuthMethod)
		}
		if strings.Contains(list, u.PasswordHash) || strings.Contains(list, u.PasswordHash[1:]) {
			t.Errorf("user list shows %s's hash:\n%s", u.Name, list)
		}
	}

	mustCtl(t, "user", "remove", "alice")
	err = waitLogin("alice", "s3cret", 1045)
	var me *mysqldriver.MySQLError
	if !errors.As(err, &me) || me.Number != 1045 {
		t.Fatalf("alice after user remove: got %v, want 1045", err)
	}
	if _, _, code := ctl(t, "user", "add", "bob", "--password", "x"); code != exitError {
		t.Errorf("adding bob twice: exit %d, want %d", code, exitError)
	}
	if _, _, code := ctl(t, "user", "add", "carol"); code != exitUsage {
		t.Errorf("user add without --password: exit %d, want %d", code, exitUsage)
	}
}
