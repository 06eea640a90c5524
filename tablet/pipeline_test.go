package tablet_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestPipeline: pipelined statements all run, in order; the first server
// error is returned and the connection stays in step for the next
// statement, on both EOF dialects.
func TestPipeline(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			c := mustDial(t, d.dial, cfg)
			ctx := context.Background()
			if err := c.Pipeline(ctx, "SET @a = 1", "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "START TRANSACTION"); err != nil {
				t.Fatal(err)
			}
			if !c.InTransaction() {
				t.Error("InTransaction() = false after a pipelined START TRANSACTION")
			}
			err := c.Pipeline(ctx, "SET @b = 2", "SELECT * FROM no_such_db.t", "SET @c = 3")
			var me *mysql.MyError
			if !errors.As(err, &me) || me.Code != mysql.ER_NO_SUCH_TABLE {
				t.Fatalf("got %v, want error 1146", err)
			}
			r := mustExec(t, c, "SELECT @a, @b, @c, @@tx_isolation")
			if got := string(r.Rows[0][0]) + string(r.Rows[0][1]) + string(r.Rows[0][2]) + " " + string(r.Rows[0][3]); got != "123 REPEATABLE-READ" {
				t.Errorf("after the pipelines: got %q, want every SET applied (the one-shot level is not the session's)", got)
			}
			mustExec(t, c, "ROLLBACK")
			if c.IsBroken() {
				t.Error("connection broken after a server error in a pipeline")
			}
		})
	}
}
