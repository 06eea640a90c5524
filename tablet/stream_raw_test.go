package tablet_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/wire"
)

// TestStreamRaw: StreamRaw hands over each row as the packet payload the
// server sent — the text row Stream splits into values — with both ways
// of ending a result set; a statement that fails after some rows returns
// the server's error and leaves the connection in step, and a callback
// error stops the statement.
func TestStreamRaw(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	setup := mustDial(t, tablet.Dial, cfg)
	mustExec(t, setup, "CREATE DATABASE raw")
	mustExec(t, setup, "CREATE TABLE raw.t (id BIGINT PRIMARY KEY, s VARCHAR(20), n INT)")
	mustExec(t, setup, "INSERT INTO raw.t VALUES (1, 'one', NULL), (2, '', 2), (3, 'three ☃', 3), (4, 'four', 4)")
	const q = "SELECT id, s, n FROM raw.t ORDER BY id"
	ctx := context.Background()

	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			c := mustDial(t, d.dial, cfg)
			var want [][]byte
			if _, err := c.Stream(ctx, q, nil, func(row [][]byte) error {
				want = append(want, wire.AppendTextRow(nil, row))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var got [][]byte
			var fields []*mysql.Field
			res, err := c.StreamRaw(ctx, q, func(f []*mysql.Field) error { fields = f; return nil }, func(p []byte) error {
				got = append(got, bytes.Clone(p))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(fields) != 3 || string(fields[1].Name) != "s" {
				t.Errorf("fields: got %d, want id, s, n", len(fields))
			}
			if len(got) != 4 || len(want) != 4 {
				t.Fatalf("got %d raw rows, %d decoded, want 4", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("row %d: raw payload %q, want the text row %q", i, got[i], want[i])
				}
			}
			if res.Status&mysql.SERVER_STATUS_AUTOCOMMIT == 0 {
				t.Errorf("status %#x: want the final packet's (autocommit)", res.Status)
			}

			// An error after rows: the rows before it, then the error.
			n := 0
			_, err = c.StreamRaw(ctx, "SELECT id, (SELECT 1 UNION SELECT 2 FROM DUAL WHERE t.id > 2) FROM raw.t t ORDER BY id", nil, func([]byte) error { n++; return nil })
			var me *mysql.MyError
			if !errors.As(err, &me) || me.Code != mysql.ER_SUBQUERY_NO_1_ROW || n != 2 {
				t.Errorf("failing statement: %d rows then %v, want 2 rows then 1242", n, err)
			}
			if r := mustExec(t, c, "SELECT 1"); len(r.Rows) != 1 || c.IsBroken() {
				t.Errorf("after the failed statement: %v rows, broken %v; want the connection in step", r.Rows, c.IsBroken())
			}

			// A callback error stops the statement and the connection.
			stop := errors.New("stop")
			if _, err := c.StreamRaw(ctx, q, nil, func([]byte) error { return stop }); !errors.Is(err, stop) {
				t.Errorf("callback error: got %v, want it returned", err)
			}
			if !c.IsBroken() {
				t.Error("a stream stopped part way left the connection usable")
			}
		})
	}
}
