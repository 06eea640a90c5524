package tablet_test

import (
	"context"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestMysqldStartDemotedAndWipe: a former primary killed with a prepared
// XA branch in its binlog's tail (crash recovery as a replica refuses to
// cut past it) still starts demoted: read-only, semi-sync primary side
// off, the branch kept; the next plain Start is writable again; Wipe
// refuses a running instance and, stopped, gives Init an empty one.
func TestMysqldStartDemotedAndWipe(t *testing.T) {
	m := tablettest.StartMysqld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	query := func(q string) string {
		t.Helper()
		c, err := tablet.Dial(ctx, m.ConnConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r, err := c.Execute(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(r.Rows) == 0 {
			return ""
		}
		return string(r.Rows[0][0])
	}
	query("CREATE DATABASE d")
	query("CREATE TABLE d.t (id INT PRIMARY KEY)")
	c, err := tablet.Dial(ctx, m.ConnConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"XA START 'x'", "INSERT INTO d.t VALUES (1)", "XA END 'x'", "XA PREPARE 'x'"} {
		if _, err := c.Execute(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	c.Close()
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := m.StartDemoted(ctx); err != nil {
		t.Fatalf("StartDemoted after a kill with a prepared XA branch: %v", err)
	}
	if got := query("SELECT @@global.read_only"); got != "1" {
		t.Errorf("demoted: read_only got %s, want 1", got)
	}
	if got := query("SELECT @@global.rpl_semi_sync_master_enabled"); got != "0" {
		t.Errorf("demoted: rpl_semi_sync_master_enabled got %s, want 0", got)
	}
	if got := query("XA RECOVER"); got == "" {
		t.Errorf("demoted: the prepared branch is gone, want it kept (ordinary recovery)")
	}
	query("XA ROLLBACK 'x'")
	if err := m.Wipe(); err == nil {
		t.Errorf("Wipe of a running instance: got no error")
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := query("SELECT @@global.read_only"); got != "0" {
		t.Errorf("plain Start after a demoted one: read_only got %s, want 0 (my.cnf's)", got)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Wipe(); err != nil {
		t.Fatal(err)
	}
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := query("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'd'"); got != "0" {
		t.Errorf("after Wipe and Init: database d exists (%s), want an empty instance", got)
	}
}
