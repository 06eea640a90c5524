package tablet_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestSendAhead: statements sent ahead of a command (a transaction's
// begin ahead of its first read) run before it, so what the command and
// the next ones do is inside the transaction they began; one that fails
// (XA START of an xid in use elsewhere: XAER_DUPID) makes the command
// answer its error with no column definitions or rows handed over, for
// a text, a raw and a prepared read alike, and the connection stays in
// step and out of any transaction.
func TestSendAhead(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	ctx := context.Background()
	setup := mustDial(t, tablet.Dial, cfg)
	mustExec(t, setup, "CREATE DATABASE IF NOT EXISTS ahead")
	mustExec(t, setup, "CREATE TABLE IF NOT EXISTS ahead.t (id INT PRIMARY KEY, v INT)")
	mustExec(t, setup, "REPLACE INTO ahead.t VALUES (1, 10)")
	value := func() string { return string(mustExec(t, setup, "SELECT v FROM ahead.t WHERE id = 1").Rows[0][0]) }

	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			c := mustDial(t, d.dial, cfg)
			c.SendAhead("SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "XA START 'ahead1'")
			var got []string
			_, err := c.Stream(ctx, "SELECT v FROM ahead.t WHERE id = 1", nil, func(row [][]byte) error {
				got = append(got, string(row[0]))
				return nil
			})
			if err != nil || len(got) != 1 || got[0] != "10" {
				t.Fatalf("read behind its begin: got %v, %v; want [10], nil", got, err)
			}
			if c.AheadFailed() || !c.InTransaction() {
				t.Fatalf("after a begin sent ahead: AheadFailed %v, InTransaction %v; want false, true", c.AheadFailed(), c.InTransaction())
			}
			mustExec(t, c, "UPDATE ahead.t SET v = v + 1 WHERE id = 1")
			if err := c.Pipeline(ctx, "XA END 'ahead1'", "XA ROLLBACK 'ahead1'"); err != nil {
				t.Fatal(err)
			}
			if v := value(); v != "10" {
				t.Errorf("after XA ROLLBACK: v = %s, want 10 (the write was in the branch begun ahead)", v)
			}

			other := mustDial(t, tablet.Dial, cfg)
			mustExec(t, other, "XA START 'taken'")
			defer mustExec(t, other, "XA END 'taken'")
			reads := map[string]func() error{
				"Stream": func() error {
					_, err := c.Stream(ctx, "SELECT v FROM ahead.t WHERE id = 1", onFieldsFail(t), func([][]byte) error {
						t.Error("Stream: a row reached the callback behind a failed begin")
						return nil
					})
					return err
				},
				"StreamRaw": func() error {
					_, err := c.StreamRaw(ctx, "SELECT v FROM ahead.t WHERE id = 1", onFieldsFail(t), func([]byte) error {
						t.Error("StreamRaw: a row reached the callback behind a failed begin")
						return nil
					})
					return err
				},
				"StreamPrepared": func() error {
					_, err := c.StreamPrepared(ctx, "SELECT v FROM ahead.t WHERE id = ?", []any{int64(1)}, onFieldsFail(t), func([]byte) error {
						t.Error("StreamPrepared: a row reached the callback behind a failed begin")
						return nil
					})
					return err
				},
			}
			for name, read := range reads {
				c.SendAhead("XA START 'taken'")
				err := read()
				var me *mysql.MyError
				if !errors.As(err, &me) || me.Code != mysql.ER_XAER_DUPID {
					t.Fatalf("%s behind a failing XA START: got %v, want error %d", name, err, mysql.ER_XAER_DUPID)
				}
				if !c.AheadFailed() || c.InTransaction() || c.IsBroken() {
					t.Fatalf("%s: AheadFailed %v, InTransaction %v, IsBroken %v; want true, false, false", name, c.AheadFailed(), c.InTransaction(), c.IsBroken())
				}
				if r := mustExec(t, c, "SELECT 'next'"); string(r.Rows[0][0]) != "next" {
					t.Fatalf("%s: the next statement got %q, want its own answer", name, r.Rows[0][0])
				}
			}
		})
	}
}

func onFieldsFail(t *testing.T) func([]*mysql.Field) error {
	return func([]*mysql.Field) error {
		t.Error("column definitions reached the callback behind a failed begin")
		return nil
	}
}

// TestSendAheadDroppedByPool: statements queued on a connection that goes
// back to its pool unsent never reach the next user's statements.
func TestSendAheadDroppedByPool(t *testing.T) {
	m := tablettest.StartMysqld(t)
	pool := tablet.NewPool(tablet.PoolConfig{Conn: m.ConnConfig(), Size: 1})
	defer pool.Close()
	ctx := context.Background()
	c, err := pool.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.SendAhead("XA START 'never'")
	pool.Put(c)
	c, err = pool.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Put(c)
	mustExec(t, c, "SELECT 1")
	if c.InTransaction() {
		t.Error("the next user's statement ran inside a transaction queued by the previous user")
	}
}
