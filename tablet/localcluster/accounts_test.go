package localcluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestAppAccountOnEveryInstance: every instance of a cluster, primaries
// and replicas, lets the app account in with the password kept in the
// data directory (mode 0600), in its keyspace's database; a data
// directory from before the account existed (the account dropped by hand
// stands for it) gets it back on the next Start, with the same password.
func TestAppAccountOnEveryInstance(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, Keyspaces: []KeyspaceSpec{{Name: "ks_a"}}, Replicas: 1, EtcdAddr: "127.0.0.1:0", Logger: tablettest.Logger(t)}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	defer func() {
		if pids := tablettest.Processes(dir); len(pids) > 0 {
			t.Errorf("mariadbd processes of %s left: %v", dir, pids)
		}
	}()
	c, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	app := c.AppConn()
	if app.User != tablet.AppUser || len(app.Password) < 24 {
		t.Fatalf("AppConn() = %s with a %d-byte password, want %s with a generated one", app.User, len(app.Password), tablet.AppUser)
	}
	st, err := os.Stat(filepath.Join(dir, AppCredentialsFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v; want it with mode 0600", AppCredentialsFile, err, st.Mode().Perm())
	}
	loginAll := func(c *Cluster) {
		t.Helper()
		for _, in := range c.instances() {
			cc := c.AppConn()
			cc.Addr, cc.DB = in.Mysqld.Addr(), "ks_a"
			conn, err := tablet.Dial(ctx, cc)
			if err != nil {
				t.Fatalf("%s/%s %s: log in as the app account: %v", in.Keyspace, in.Shard, in.Type, err)
			}
			r, err := conn.Execute(ctx, "SELECT CURRENT_USER(), DATABASE()")
			conn.Close()
			if err != nil || string(r.Rows[0][0]) != "shardgate_app@127.0.0.1" || string(r.Rows[0][1]) != "ks_a" {
				t.Fatalf("%s/%s %s: CURRENT_USER(), DATABASE() = %v (err %v), want shardgate_app@127.0.0.1, ks_a", in.Keyspace, in.Shard, in.Type, r, err)
			}
		}
	}
	loginAll(c)

	// An older data directory: no app account on the replica.
	replica := c.instances()[1]
	root, err := tablet.Dial(ctx, replica.Mysqld.ConnConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SET SESSION sql_log_bin = 0", "DROP USER 'shardgate_app'@'127.0.0.1'", "DROP USER 'shardgate_app'@'localhost'"} {
		if _, err := root.Execute(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	root.Close()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	c, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	if got := c.AppConn().Password; got != app.Password {
		t.Errorf("password after a restart changed")
	}
	loginAll(c)
}
