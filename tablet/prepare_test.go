package tablet_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestPrepareFieldsAndPacketTooLarge: PrepareFields returns the server's
// parameter and column definitions and leaves the connection usable; a
// statement over max_allowed_packet (after which MariaDB closes the
// connection) marks the connection broken so a pool drops it.
func TestPrepareFieldsAndPacketTooLarge(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	ctx := context.Background()
	setup := mustDial(t, tablet.Dial, cfg)
	mustExec(t, setup, "CREATE DATABASE app")
	mustExec(t, setup, "CREATE TABLE app.p (id BIGINT PRIMARY KEY, s VARCHAR(20))")

	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			c := mustDial(t, d.dial, cfg)
			params, cols, err := c.PrepareFields(ctx, "SELECT id, s, ? FROM app.p WHERE id = ?")
			if err != nil {
				t.Fatal(err)
			}
			if len(params) != 2 || len(cols) != 3 {
				t.Fatalf("got %d params and %d columns, want 2 and 3", len(params), len(cols))
			}
			var f mysql.Field
			if err := f.Parse(cols[1]); err != nil || string(f.Name) != "s" || f.Type != mysql.MYSQL_TYPE_VAR_STRING {
				t.Fatalf("column 1: got %q type %d (%v), want s VAR_STRING", f.Name, f.Type, err)
			}
			if _, _, err := c.PrepareFields(ctx, "SELECT nope FROM app.p"); !isCode(err, mysql.ER_BAD_FIELD_ERROR) || c.IsBroken() {
				t.Fatalf("bad prepare: got %v (broken %v), want 1054 and a usable connection", err, c.IsBroken())
			}
			if got := rowStrings(mustExec(t, c, "SELECT 'still usable'").Rows); len(got) != 1 {
				t.Fatalf("after PrepareFields: got %v", got)
			}
		})
	}

	mustExec(t, setup, "SET GLOBAL max_allowed_packet = 1048576")
	t.Cleanup(func() { setup.Execute(context.Background(), "SET GLOBAL max_allowed_packet = DEFAULT") })
	c := mustDial(t, tablet.Dial, cfg)
	_, err := c.Execute(ctx, "SELECT '"+strings.Repeat("a", 2<<20)+"'")
	// The server answers 1153 and closes the connection while the client
	// may still be writing: which the client sees first is a race, so a
	// reset during the write is as right as the error packet.
	if !isCode(err, mysql.ER_NET_PACKET_TOO_LARGE) && !errors.Is(err, tablet.ErrConnBroken) {
		t.Fatalf("2 MiB statement over a 1 MiB max_allowed_packet: got %v, want 1153 or a broken connection", err)
	}
	if !c.IsBroken() {
		t.Fatal("after 1153 the connection is not marked broken")
	}
}

func isCode(err error, code uint16) bool {
	var me *mysql.MyError
	return errors.As(err, &me) && me.Code == code
}
