package tablet_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestStreamAfter: the statements sent ahead run before the query, in the
// same round trip; the query's rows and counts come back; a failing
// statement ahead is reported (the query still ran) and a failing query is
// reported with its own number, with the connection in step afterwards.
func TestStreamAfter(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			c := mustDial(t, d.dial, cfg)
			ctx := context.Background()
			mustExec(t, c, "CREATE DATABASE IF NOT EXISTS sa")
			mustExec(t, c, "CREATE TABLE IF NOT EXISTS sa.t_"+d.name+" (id INT PRIMARY KEY)")
			table := "sa.t_" + d.name
			mustExec(t, c, "START TRANSACTION")
			mustExec(t, c, "INSERT INTO "+table+" VALUES (1)")
			r, err := c.StreamAfter(ctx, []string{"SAVEPOINT sp"}, "INSERT INTO "+table+" VALUES (2), (3)", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.RowsAffected != 2 {
				t.Errorf("got %d rows affected, want 2", r.RowsAffected)
			}
			// The savepoint was set before the insert: rolling back to it
			// keeps row 1 only.
			mustExec(t, c, "ROLLBACK TO SAVEPOINT sp")
			var got []string
			if _, err := c.StreamAfter(ctx, []string{"SET @x = 5"}, "SELECT id FROM "+table+" ORDER BY id", nil, func(row [][]byte) error {
				got = append(got, string(row[0]))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != "1" {
				t.Errorf("after ROLLBACK TO: got rows %v, want [1]", got)
			}
			_, err = c.StreamAfter(ctx, []string{"SAVEPOINT sp"}, "INSERT INTO "+table+" VALUES (1)", nil, nil)
			var me *mysql.MyError
			if !errors.As(err, &me) || me.Code != mysql.ER_DUP_ENTRY {
				t.Fatalf("duplicate: got %v, want error 1062", err)
			}
			_, err = c.StreamAfter(ctx, []string{"SELECT * FROM no_such_db.t"}, "SET @y = 7", nil, nil)
			if !errors.As(err, &me) || me.Code != mysql.ER_NO_SUCH_TABLE {
				t.Fatalf("failing statement ahead: got %v, want error 1146", err)
			}
			r2 := mustExec(t, c, "SELECT @x, @y")
			if g := string(r2.Rows[0][0]) + string(r2.Rows[0][1]); g != "57" {
				t.Errorf("got @x@y = %q, want 57 (every statement ran)", g)
			}
			mustExec(t, c, "ROLLBACK")
			if c.IsBroken() {
				t.Error("connection broken after server errors")
			}
		})
	}
}
