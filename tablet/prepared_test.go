package tablet_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/wire"
)

// preparedRows runs q with StreamPrepared and decodes its raw binary rows
// to text (the decoder StreamBinary uses), so they compare with the text
// protocol's.
func preparedRows(t *testing.T, c *tablet.Conn, q string, args ...any) ([]*mysql.Field, [][]string) {
	t.Helper()
	var (
		fields []*mysql.Field
		rows   [][]string
		dec    wire.BinaryRowDecoder
	)
	_, err := c.StreamPrepared(context.Background(), q, args, func(f []*mysql.Field) error {
		fields = f
		return nil
	}, func(payload []byte) error {
		vals := make([][]byte, len(fields))
		if err := dec.Decode(payload, fields, vals); err != nil {
			return err
		}
		rows = append(rows, rowStrings([][][]byte{vals})[0])
		return nil
	})
	if err != nil {
		t.Fatalf("StreamPrepared(%q, %v): %v", q, args, err)
	}
	return fields, rows
}

// sessionStatus reads a session status counter (Com_stmt_prepare, ...).
func sessionStatus(t *testing.T, c *tablet.Conn, name string) int {
	t.Helper()
	r := mustExec(t, c, "SHOW SESSION STATUS LIKE '"+name+"'")
	if len(r.Rows) != 1 {
		t.Fatalf("SHOW SESSION STATUS LIKE %q: %d rows", name, len(r.Rows))
	}
	n, err := strconv.Atoi(string(r.Rows[0][1]))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStreamPrepared: a statement is prepared on the server once per
// connection and then only executed, with arguments of every kind a
// client sends; its rows are those of the same query in the text
// protocol; a second statement after it still reads in step.
func TestStreamPrepared(t *testing.T) {
	m := tablettest.StartMysqld(t)
	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			c := mustDial(t, d.dial, m.ConnConfig())
			mustExec(t, c, "CREATE DATABASE IF NOT EXISTS app")
			mustExec(t, c, "CREATE OR REPLACE TABLE app.p (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(20), score DOUBLE, note TEXT)")
			mustExec(t, c, "INSERT INTO app.p VALUES (1, 'one', 1.5, NULL), (18446744073709551615, 'max', -2.25, 'x'), (3, '', 0, '')")
			const q = "SELECT id, name, score, note FROM app.p WHERE id = ? OR name = ? OR score = ? OR note <=> ? ORDER BY id"
			text := "SELECT id, name, score, note FROM app.p WHERE id = %s OR name = %s OR score = %s OR note <=> %s ORDER BY id"
			before := sessionStatus(t, c, "Com_stmt_prepare")
			cases := [][]any{
				{int64(1), []byte("max"), 0.0, nil},
				{uint64(18446744073709551615), []byte("none"), 99.0, []byte("")},
				{int64(-1), []byte(""), -2.25, []byte("x")},
			}
			for _, args := range cases {
				lits := make([]any, len(args))
				for i, a := range args {
					switch v := a.(type) {
					case nil:
						lits[i] = "NULL"
					case []byte:
						lits[i] = "'" + string(v) + "'"
					case float64:
						lits[i] = strconv.FormatFloat(v, 'g', -1, 64) + "e0"
					default:
						lits[i] = fmt.Sprint(v)
					}
				}
				want := rowStrings(mustExec(t, c, fmt.Sprintf(text, lits...)).Rows)
				_, got := preparedRows(t, c, q, args...)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("args %v: got %v, want %v", args, got, want)
				}
			}
			if got := sessionStatus(t, c, "Com_stmt_prepare") - before; got != 1 {
				t.Errorf("prepared %d times for %d executions, want once", got, len(cases))
			}
			if got := c.PreparedCount(); got != 1 {
				t.Errorf("PreparedCount() = %d, want 1", got)
			}
			if _, err := c.StreamPrepared(context.Background(), "SELECT ?", nil, nil, nil); !errors.Is(err, tablet.ErrNotPreparable) {
				t.Errorf("StreamPrepared with 1 marker and no arguments: got %v, want ErrNotPreparable", err)
			}
			if got := rowStrings(mustExec(t, c, "SELECT 'next'").Rows); len(got) != 1 || got[0][0] != "next" {
				t.Fatalf("after StreamPrepared: got %v", got)
			}
		})
	}
}

// TestStreamPreparedBounded: past ConnConfig.PreparedStatements the least
// recently used statement is closed on the server (Com_stmt_close, and
// the server's Prepared_stmt_count stays at the bound).
func TestStreamPreparedBounded(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	cfg.PreparedStatements = 3
	c := mustDial(t, tablet.Dial, cfg)
	closed := sessionStatus(t, c, "Com_stmt_close")
	for i := range 10 {
		q := fmt.Sprintf("SELECT %d + ?", i)
		_, rows := preparedRows(t, c, q, int64(1))
		if want := strconv.Itoa(i + 1); len(rows) != 1 || rows[0][0] != want {
			t.Fatalf("%s with 1: got %v, want %s", q, rows, want)
		}
	}
	if got := c.PreparedCount(); got != 3 {
		t.Errorf("PreparedCount() = %d, want 3", got)
	}
	if got := sessionStatus(t, c, "Com_stmt_close") - closed; got != 7 {
		t.Errorf("closed %d statements, want 7", got)
	}
	r := mustExec(t, c, "SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'")
	if got := string(r.Rows[0][1]); got != "3" {
		t.Errorf("server's Prepared_stmt_count = %s, want 3", got)
	}
	// The most recently used are the ones kept: running 9 again prepares
	// nothing.
	prepared := sessionStatus(t, c, "Com_stmt_prepare")
	preparedRows(t, c, "SELECT 9 + ?", int64(0))
	if got := sessionStatus(t, c, "Com_stmt_prepare") - prepared; got != 0 {
		t.Errorf("a kept statement was prepared %d more times", got)
	}
}

// TestStreamPreparedReprepares: a statement the server lost (1243) is
// prepared again transparently, and one whose table changed shape between
// executions answers with the new columns.
func TestStreamPreparedReprepares(t *testing.T) {
	m := tablettest.StartMysqld(t)
	c := mustDial(t, tablet.Dial, m.ConnConfig())
	mustExec(t, c, "CREATE DATABASE app")
	mustExec(t, c, "CREATE TABLE app.r (id INT PRIMARY KEY, a INT)")
	mustExec(t, c, "INSERT INTO app.r VALUES (1, 10)")
	const q = "SELECT * FROM app.r WHERE id = ?"
	preparedRows(t, c, q, int64(1))
	if err := c.CloseBehindCache(q); err != nil {
		t.Fatal(err)
	}
	if _, rows := preparedRows(t, c, q, int64(1)); fmt.Sprint(rows) != "[[1 10]]" {
		t.Errorf("after the server lost the statement: got %v, want [[1 10]]", rows)
	}
	mustExec(t, c, "ALTER TABLE app.r ADD COLUMN b VARCHAR(5) DEFAULT 'new'")
	fields, rows := preparedRows(t, c, q, int64(1))
	if len(fields) != 3 || fmt.Sprint(rows) != "[[1 10 new]]" {
		t.Errorf("after ALTER TABLE: got %d columns %v, want 3 columns [[1 10 new]]", len(fields), rows)
	}
	mustExec(t, c, "ALTER TABLE app.r DROP COLUMN a")
	fields, rows = preparedRows(t, c, q, int64(1))
	if len(fields) != 2 || fmt.Sprint(rows) != "[[1 new]]" {
		t.Errorf("after DROP COLUMN: got %d columns %v, want 2 columns [[1 new]]", len(fields), rows)
	}
}
