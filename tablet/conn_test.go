package tablet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// dialers are the two ways a result set can end: with CLIENT_DEPRECATE_EOF
// (an OK packet) and without (EOF packets).
var dialers = []struct {
	name string
	dial func(context.Context, tablet.ConnConfig) (*tablet.Conn, error)
}{
	{"deprecate_eof", tablet.Dial},
	{"eof_packets", tablet.DialNoDeprecateEOF},
}

func mustDial(t testing.TB, dial func(context.Context, tablet.ConnConfig) (*tablet.Conn, error), cfg tablet.ConnConfig) *tablet.Conn {
	t.Helper()
	c, err := dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial(%s): %v", cfg.Addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustExec(t testing.TB, c *tablet.Conn, q string) *tablet.Result {
	t.Helper()
	r, err := c.Execute(context.Background(), q)
	if err != nil {
		t.Fatalf("Execute(%q): %v", q, err)
	}
	return r
}

func TestConn(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	setup := mustDial(t, tablet.Dial, cfg)
	mustExec(t, setup, "CREATE DATABASE app")
	mustExec(t, setup, "CREATE TABLE app.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(20), b VARBINARY(64), n INT)")

	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			c := mustDial(t, d.dial, cfg)
			if got, want := c.DeprecateEOF(), d.name == "deprecate_eof"; got != want {
				t.Fatalf("DeprecateEOF() = %v, want %v", got, want)
			}
			t.Run("Select", func(t *testing.T) { testSelect(t, c) })
			t.Run("DML", func(t *testing.T) { testDML(t, c) })
			t.Run("Error", func(t *testing.T) { testError(t, c) })
			t.Run("NullAndBinary", func(t *testing.T) { testNullAndBinary(t, c) })
			t.Run("Stream", func(t *testing.T) { testStream(t, c) })
			t.Run("StreamCallbackError", func(t *testing.T) { testStreamCallbackError(t, d.dial, cfg) })
			t.Run("Transaction", func(t *testing.T) { testTransactionStatus(t, c) })
		})
	}
	t.Run("ID", func(t *testing.T) {
		c := mustDial(t, tablet.Dial, cfg)
		r := mustExec(t, c, "SELECT CONNECTION_ID()")
		if got, want := string(r.Rows[0][0]), strconv.FormatUint(uint64(c.ID()), 10); got != want {
			t.Errorf("CONNECTION_ID() = %s, ID() = %s", got, want)
		}
	})
	t.Run("Charset", func(t *testing.T) {
		c := mustDial(t, tablet.Dial, cfg)
		r := mustExec(t, c, "SELECT @@character_set_client, @@character_set_results, @@collation_connection")
		if got, want := fmt.Sprint(rowStrings(r.Rows)), "[[utf8mb4 utf8mb4 utf8mb4_general_ci]]"; got != want {
			t.Errorf("default charset: got %v, want %v", got, want)
		}
		latin := cfg
		latin.Charset = "latin1"
		c = mustDial(t, tablet.Dial, latin)
		r = mustExec(t, c, "SELECT @@character_set_client, @@character_set_results")
		if got, want := fmt.Sprint(rowStrings(r.Rows)), "[[latin1 latin1]]"; got != want {
			t.Errorf("latin1: got %v, want %v", got, want)
		}
		bad := cfg
		bad.Charset = "utf8mb4; DROP DATABASE app"
		if _, err := tablet.Dial(context.Background(), bad); err == nil {
			t.Error("Dial with a charset that is no name: got nil error")
		}
	})
	t.Run("DefaultDB", func(t *testing.T) {
		withDB := cfg
		withDB.DB = "app"
		c := mustDial(t, tablet.Dial, withDB)
		if got := rowStrings(mustExec(t, c, "SELECT DATABASE()").Rows); fmt.Sprint(got) != "[[app]]" {
			t.Errorf("DATABASE() = %v, want [[app]]", got)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		bad := cfg
		bad.Password = "wrong"
		_, err := tablet.Dial(context.Background(), bad)
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != mysql.ER_ACCESS_DENIED_ERROR {
			t.Errorf("Dial with a wrong password: got %v, want error 1045", err)
		}
	})
	t.Run("LargeValues", func(t *testing.T) { testLargeValues(t, mustDial(t, tablet.Dial, cfg)) })
	t.Run("MultipleResults", func(t *testing.T) {
		c := mustDial(t, tablet.DialMultiStatements, cfg)
		_, err := c.Execute(context.Background(), "SELECT 1; SELECT 2, 3; DO 4")
		if !errors.Is(err, tablet.ErrMultipleResults) {
			t.Fatalf("multi-statement: got %v, want ErrMultipleResults", err)
		}
		if c.IsBroken() {
			t.Fatal("connection broken after ErrMultipleResults")
		}
		if got := rowStrings(mustExec(t, c, "SELECT 5").Rows); fmt.Sprint(got) != "[[5]]" {
			t.Errorf("after multiple results: got %v, want [[5]]", got)
		}
	})
	t.Run("ProcedureResults", func(t *testing.T) {
		c := mustDial(t, tablet.Dial, cfg)
		mustExec(t, c, "CREATE DATABASE IF NOT EXISTS app")
		mustExec(t, c, "DROP PROCEDURE IF EXISTS app.two_sets")
		mustExec(t, c, "CREATE PROCEDURE app.two_sets(fail INT) BEGIN SELECT 1 AS a, 2 AS b; SELECT 'x' AS c UNION ALL SELECT 'y'; IF fail THEN SIGNAL SQLSTATE '45001' SET MESSAGE_TEXT = 'boom', MYSQL_ERRNO = 45001; END IF; END")
		var got []string
		call := func(q string) error {
			got = got[:0]
			return c.StreamResults(context.Background(), q,
				func(fields []*mysql.Field) error {
					got = append(got, fmt.Sprintf("fields %d", len(fields)))
					return nil
				},
				func(row [][]byte) error {
					got = append(got, fmt.Sprintf("row %q", row))
					return nil
				},
				func(r *tablet.Result) error {
					got = append(got, fmt.Sprintf("end fields=%d more=%v", len(r.Fields), r.Status&mysql.SERVER_MORE_RESULTS_EXISTS != 0))
					return nil
				})
		}
		if err := call("CALL app.two_sets(0)"); err != nil {
			t.Fatal(err)
		}
		want := `[fields 2 row ["1" "2"] end fields=2 more=true fields 1 row ["x"] row ["y"] end fields=1 more=true end fields=0 more=false]`
		if g := fmt.Sprintf("%v", got); g != want {
			t.Errorf("CALL's results:\n got %s\nwant %s", g, want)
		}
		err := call("CALL app.two_sets(1)")
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != 45001 {
			t.Fatalf("CALL that signals after two result sets: got %v, want error 45001", err)
		}
		if g := fmt.Sprintf("%v", got); g != `[fields 2 row ["1" "2"] end fields=2 more=true fields 1 row ["x"] row ["y"] end fields=1 more=true]` {
			t.Errorf("results before the error: %s", g)
		}
		if c.IsBroken() {
			t.Fatal("connection broken after a procedure's error")
		}
		if got := rowStrings(mustExec(t, c, "SELECT 5").Rows); fmt.Sprint(got) != "[[5]]" {
			t.Errorf("after the procedure: got %v, want [[5]]", got)
		}
	})
	t.Run("LocalInfileRefused", func(t *testing.T) {
		c := mustDial(t, tablet.Dial, cfg)
		_, err := c.Execute(context.Background(), "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE app.t")
		if err == nil || c.IsBroken() {
			t.Fatalf("LOAD DATA LOCAL INFILE: got %v (broken %v), want an error and a usable connection", err, c.IsBroken())
		}
		mustExec(t, c, "SELECT 1")
	})
	t.Run("Cancel", func(t *testing.T) { testCancel(t, cfg) })
	t.Run("CancelledBeforeStart", func(t *testing.T) {
		c := mustDial(t, tablet.Dial, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Execute(ctx, "SELECT 1"); !errors.Is(err, context.Canceled) {
			t.Errorf("Execute with a cancelled ctx: got %v, want context.Canceled", err)
		}
		if c.IsBroken() {
			t.Error("a statement never sent broke the connection")
		}
		if _, err := tablet.Dial(ctx, cfg); !errors.Is(err, context.Canceled) {
			t.Errorf("Dial with a cancelled ctx: got %v, want context.Canceled", err)
		}
	})
	t.Run("Closed", func(t *testing.T) {
		c, err := tablet.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := c.Execute(context.Background(), "SELECT 1"); !errors.Is(err, tablet.ErrConnBroken) {
			t.Errorf("Execute after Close: got %v, want ErrConnBroken", err)
		}
	})
	t.Run("ServerKillsConnection", func(t *testing.T) {
		c := mustDial(t, tablet.Dial, cfg)
		mustExec(t, setup, fmt.Sprintf("KILL %d", c.ID()))
		time.Sleep(50 * time.Millisecond)
		if c.Alive() {
			t.Error("Alive() of a connection the server killed")
		}
		_, err := c.Execute(context.Background(), "SELECT 1")
		if err == nil || !c.IsBroken() {
			t.Fatalf("Execute on a killed connection: got %v, broken %v; want an error and a broken connection", err, c.IsBroken())
		}
		// The server's goodbye may arrive as an ERR packet (then the
		// connection dies on the next read) or as end of file.
		if !errors.Is(err, tablet.ErrConnBroken) {
			var me *mysql.MyError
			if !errors.As(err, &me) {
				t.Errorf("Execute on a killed connection: got %v, want ErrConnBroken or the server's error", err)
			}
		}
	})
}

// TestDialTimeout dials a server that accepts and then says nothing: the
// handshake must end with ctx.
func TestDialTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tablet.Dial(ctx, tablet.ConnConfig{Addr: l.Addr().String(), User: "root"})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("Dial of a silent server: got %v after %v, want context.DeadlineExceeded after 200ms", err, time.Since(start))
	}
	if c, ok := <-accepted; ok {
		_ = c.Close()
	}
}

func testSelect(t *testing.T, c *tablet.Conn) {
	r := mustExec(t, c, "SELECT 1 AS one, 'abc' AS s, 2.50 AS d, CAST('2024-01-02' AS DATE) AS dt, '' AS empty")
	want := [][]string{{"1", "abc", "2.50", "2024-01-02", ""}}
	if got := rowStrings(r.Rows); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows: got %q, want %q", got, want)
	}
	if r.Rows[0][4] == nil || len(r.Rows[0][4]) != 0 {
		t.Errorf("'' came back as %#v, want a non-nil empty slice", r.Rows[0][4])
	}
	names := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		names[i] = string(f.Name)
	}
	if got, want := strings.Join(names, ","), "one,s,d,dt,empty"; got != want {
		t.Errorf("field names: got %s, want %s", got, want)
	}
	types := []uint8{mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_VAR_STRING}
	for i, f := range r.Fields {
		if f.Type != types[i] {
			t.Errorf("field %s: type %d, want %d", f.Name, f.Type, types[i])
		}
		if len(f.Data) == 0 {
			t.Errorf("field %s: no raw packet", f.Name)
		}
	}
	if r.Status&mysql.SERVER_STATUS_AUTOCOMMIT == 0 {
		t.Errorf("status %#x lacks SERVER_STATUS_AUTOCOMMIT", r.Status)
	}

	r = mustExec(t, c, "SELECT id FROM app.t WHERE 1 = 0")
	if len(r.Rows) != 0 || len(r.Fields) != 1 || string(r.Fields[0].Name) != "id" || string(r.Fields[0].Table) != "t" || string(r.Fields[0].Schema) != "app" {
		t.Errorf("empty result: got %d rows, fields %v", len(r.Rows), r.Fields)
	}
	if r.Fields[0].Flag&mysql.PRI_KEY_FLAG == 0 || r.Fields[0].Flag&mysql.AUTO_INCREMENT_FLAG == 0 {
		t.Errorf("id flags %#x: want PRI_KEY and AUTO_INCREMENT", r.Fields[0].Flag)
	}

	// Rows of an earlier result stay valid after later statements.
	r1 := mustExec(t, c, "SELECT 'first' UNION ALL SELECT 'second'")
	mustExec(t, c, "SELECT REPEAT('x', 1000)")
	if got := rowStrings(r1.Rows); fmt.Sprint(got) != "[[first] [second]]" {
		t.Errorf("earlier rows after another statement: got %v", got)
	}
}

func testDML(t *testing.T, c *tablet.Conn) {
	mustExec(t, c, "DELETE FROM app.t")
	r := mustExec(t, c, "INSERT INTO app.t (s) VALUES ('a'), ('b'), ('c')")
	if r.RowsAffected != 3 || r.InsertID == 0 || r.Fields != nil || r.Rows != nil {
		t.Errorf("INSERT: got %+v, want 3 rows affected, an insert id and no result set", r)
	}
	first := r.InsertID
	r = mustExec(t, c, fmt.Sprintf("UPDATE app.t SET n = 7 WHERE id > %d", first))
	if r.RowsAffected != 2 {
		t.Errorf("UPDATE: got %d rows affected, want 2", r.RowsAffected)
	}
	mustExec(t, c, "INSERT INTO app.t (id, n) VALUES (1000, 5)")
	r = mustExec(t, c, "INSERT IGNORE INTO app.t (id, n) VALUES (1000, 6)")
	if r.RowsAffected != 0 || r.Warnings != 1 {
		t.Errorf("INSERT IGNORE of a duplicate: got %d rows affected, %d warnings; want 0 and 1", r.RowsAffected, r.Warnings)
	}
	r = mustExec(t, c, "SELECT CAST('12abc' AS SIGNED)")
	if r.Warnings != 1 || string(r.Rows[0][0]) != "12" {
		t.Errorf("CAST('12abc' AS SIGNED): got %q with %d warnings, want 12 with 1", r.Rows[0][0], r.Warnings)
	}
}

func testError(t *testing.T, c *tablet.Conn) {
	for _, tc := range []struct {
		query string
		code  uint16
		state string
		msg   string
	}{
		{"SELECT * FROM app.nope", mysql.ER_NO_SUCH_TABLE, "42S02", "Table 'app.nope' doesn't exist"},
		{"SELEC 1", mysql.ER_PARSE_ERROR, "42000", "You have an error in your SQL syntax"},
		{"INSERT INTO app.t (id) VALUES (1000)", mysql.ER_DUP_ENTRY, "23000", "Duplicate entry '1000' for key 'PRIMARY'"},
		{"SELECT nope FROM app.t", mysql.ER_BAD_FIELD_ERROR, "42S22", "Unknown column 'nope' in "},
	} {
		_, err := c.Execute(context.Background(), tc.query)
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != tc.code || me.State != tc.state || !strings.HasPrefix(me.Message, tc.msg[:min(len(tc.msg), 30)]) {
			t.Errorf("Execute(%q): got %v, want ERROR %d (%s): %s", tc.query, err, tc.code, tc.state, tc.msg)
		}
		if c.IsBroken() {
			t.Fatalf("Execute(%q): a server error broke the connection", tc.query)
		}
		if got := rowStrings(mustExec(t, c, "SELECT 'still usable'").Rows); fmt.Sprint(got) != "[[still usable]]" {
			t.Fatalf("after %q: got %v", tc.query, got)
		}
	}
}

func testNullAndBinary(t *testing.T, c *tablet.Conn) {
	blob := []byte{0, 1, 2, 0xfb, 0xfe, 0xff, 0, '\'', '\\', 0}
	mustExec(t, c, "DELETE FROM app.t")
	mustExec(t, c, fmt.Sprintf("INSERT INTO app.t (id, s, b, n) VALUES (1, NULL, X'%x', NULL), (2, '', '', 0), (3, 'null', NULL, NULL)", blob))
	r := mustExec(t, c, "SELECT id, s, b, n FROM app.t ORDER BY id")
	want := [][][]byte{
		{[]byte("1"), nil, blob, nil},
		{[]byte("2"), {}, {}, []byte("0")},
		{[]byte("3"), []byte("null"), nil, nil},
	}
	if len(r.Rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(r.Rows), len(want))
	}
	for i := range want {
		for j := range want[i] {
			got := r.Rows[i][j]
			if (got == nil) != (want[i][j] == nil) || !bytes.Equal(got, want[i][j]) {
				t.Errorf("row %d column %d: got %#v, want %#v", i, j, got, want[i][j])
			}
		}
	}
	// Zero bytes inside the query text, too.
	r = mustExec(t, c, "SELECT 'a\x00b', NULL, CHAR(0)")
	if got := r.Rows[0]; string(got[0]) != "a\x00b" || got[1] != nil || !bytes.Equal(got[2], []byte{0}) {
		t.Errorf("zero bytes: got %#v", got)
	}
}

func testStream(t *testing.T, c *tablet.Conn) {
	const n = 1000
	var fields []*mysql.Field
	var rows [][]string
	r, err := c.Stream(context.Background(),
		fmt.Sprintf("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) SELECT i, IF(i %% 2, NULL, REPEAT('v', i %% 7)) AS v FROM s", n),
		func(f []*mysql.Field) error {
			if fields != nil || rows != nil {
				t.Error("onFields called twice, or after rows")
			}
			fields = f
			return nil
		},
		func(row [][]byte) error {
			rows = append(rows, rowStrings([][][]byte{row})[0])
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != 2 || string(fields[0].Name) != "i" || string(fields[1].Name) != "v" {
		t.Errorf("fields: got %v", fields)
	}
	if len(rows) != n {
		t.Fatalf("got %d rows, want %d", len(rows), n)
	}
	for i, row := range rows {
		want := "NULL"
		if (i+1)%2 == 0 {
			want = strings.Repeat("v", (i+1)%7)
		}
		if row[0] != strconv.Itoa(i+1) || row[1] != want {
			t.Fatalf("row %d: got %q, want [%d %q]", i, row, i+1, want)
		}
	}
	if r.Rows != nil || r.Status&mysql.SERVER_STATUS_AUTOCOMMIT == 0 {
		t.Errorf("Stream result: got %+v", r)
	}
	// DML and errors through Stream.
	r, err = c.Stream(context.Background(), "UPDATE app.t SET n = 1 WHERE id = 1", nil, func([][]byte) error {
		t.Error("onRow called for DML")
		return nil
	})
	if err != nil || r.RowsAffected != 1 {
		t.Errorf("Stream of an UPDATE: got %+v, %v; want 1 row affected", r, err)
	}
	_, err = c.Stream(context.Background(), "SELECT * FROM app.nope", nil, nil)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_NO_SUCH_TABLE || c.IsBroken() {
		t.Errorf("Stream of a bad table: got %v (broken %v), want error 1146 and a usable connection", err, c.IsBroken())
	}
	// An error in the middle of the rows ends the result and keeps the
	// connection in step: the scalar subquery returns two rows at i = 50.
	seen := 0
	_, err = c.Stream(context.Background(),
		"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100) "+
			"SELECT i, (SELECT 1 FROM DUAL UNION ALL SELECT 2 FROM DUAL WHERE i = 50) FROM s",
		nil, func([][]byte) error { seen++; return nil })
	if !errors.As(err, &me) || me.Code != mysql.ER_SUBQUERY_NO_1_ROW || c.IsBroken() {
		t.Fatalf("Stream failing at row 50: got %v (broken %v), want error 1242 and a usable connection", err, c.IsBroken())
	}
	t.Logf("error 1242 came after %d rows", seen)
	mustExec(t, c, "SELECT 1")
}

func testStreamCallbackError(t *testing.T, dial func(context.Context, tablet.ConnConfig) (*tablet.Conn, error), cfg tablet.ConnConfig) {
	c := mustDial(t, dial, cfg)
	stop := errors.New("client went away")
	seen := 0
	_, err := c.Stream(context.Background(), "SELECT REPEAT('x', 200) FROM information_schema.COLLATIONS a, information_schema.COLLATIONS b, information_schema.COLLATIONS c", nil, func([][]byte) error {
		seen++
		if seen == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 3 {
		t.Fatalf("Stream with a failing onRow: got %v after %d rows, want the callback's error after 3", err, seen)
	}
	if !c.IsBroken() {
		t.Error("a half-read result left the connection usable")
	}
	waitGone(t, cfg, c.ID())
	c = mustDial(t, dial, cfg)
	_, err = c.Stream(context.Background(), "SELECT 1", func([]*mysql.Field) error { return stop }, nil)
	if !errors.Is(err, stop) || !c.IsBroken() {
		t.Errorf("Stream with a failing onFields: got %v (broken %v), want the callback's error and a broken connection", err, c.IsBroken())
	}
}

func testTransactionStatus(t *testing.T, c *tablet.Conn) {
	if c.InTransaction() {
		t.Fatal("InTransaction() before BEGIN")
	}
	mustExec(t, c, "BEGIN")
	if !c.InTransaction() {
		t.Error("InTransaction() false after BEGIN")
	}
	r := mustExec(t, c, "SELECT COUNT(*) FROM app.t")
	if r.Status&mysql.SERVER_STATUS_IN_TRANS == 0 || !c.InTransaction() {
		t.Errorf("inside a transaction: status %#x", r.Status)
	}
	mustExec(t, c, "COMMIT")
	if c.InTransaction() {
		t.Error("InTransaction() after COMMIT")
	}
}

func testLargeValues(t *testing.T, c *tablet.Conn) {
	// Values past 16 MiB come in several wire packets, and so does a query
	// that long.
	const size = 17 << 20
	r := mustExec(t, c, fmt.Sprintf("SELECT REPEAT('a', %d), 'tail'", size))
	if got := r.Rows[0]; len(got[0]) != size || string(got[1]) != "tail" || bytes.Count(got[0], []byte("a")) != size {
		t.Fatalf("17 MiB value: got %d bytes and %q", len(got[0]), got[1])
	}
	q := "SELECT LENGTH('" + strings.Repeat("b", size) + "')"
	r = mustExec(t, c, q)
	if got := string(r.Rows[0][0]); got != strconv.Itoa(size) {
		t.Errorf("17 MiB query: LENGTH = %s, want %d", got, size)
	}
	var n int
	_, err := c.Stream(context.Background(), fmt.Sprintf("SELECT REPEAT('c', %d) UNION ALL SELECT 'd'", size), nil, func(row [][]byte) error {
		n += len(row[0])
		return nil
	})
	if err != nil || n != size+1 {
		t.Errorf("streamed 17 MiB value: got %d bytes, %v", n, err)
	}
}

func testCancel(t *testing.T, cfg tablet.ConnConfig) {
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, c *tablet.Conn) error
	}{
		{"Execute", func(ctx context.Context, c *tablet.Conn) error {
			_, err := c.Execute(ctx, "SELECT SLEEP(10)")
			return err
		}},
		{"Stream", func(ctx context.Context, c *tablet.Conn) error {
			_, err := c.Stream(ctx, "SELECT SLEEP(10)", nil, nil)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustDial(t, tablet.Dial, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tc.run(ctx, c)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("SELECT SLEEP(10) with a 200ms deadline: got %v, want context.DeadlineExceeded", err)
			}
			if took > 2*time.Second {
				t.Errorf("cancel took %v", took)
			}
			if !c.IsBroken() {
				t.Error("connection usable after a cancelled statement")
			}
			waitGone(t, cfg, c.ID())
		})
	}
	t.Run("Cancel", func(t *testing.T) {
		c := mustDial(t, tablet.Dial, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		if _, err := c.Execute(ctx, "SELECT SLEEP(10)"); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		waitGone(t, cfg, c.ID())
	})
}

// waitGone waits until the server runs no statement for connection id.
func waitGone(t *testing.T, cfg tablet.ConnConfig, id uint32) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		rows := query(t, cfg, fmt.Sprintf("SELECT COMMAND, INFO FROM information_schema.PROCESSLIST WHERE ID = %d AND COMMAND = 'Query'", id))
		if len(rows) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection %d still runs %v on the server", id, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStreamAllocations streams 100,000 rows and checks that memory does
// not grow with them. It runs alone (not in parallel): allocation counts are
// process-wide.
func TestStreamAllocations(t *testing.T) {
	m := tablettest.StartMysqld(t)
	c := mustDial(t, tablet.Dial, m.ConnConfig())
	const n = 100000
	q := fmt.Sprintf("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) SELECT i, REPEAT('x', 100), NULL FROM s", n)
	mustExec(t, c, "SET SESSION max_recursive_iterations = 1000000")
	// Warm up: the connection's buffers reach their size.
	if _, err := c.Stream(context.Background(), "SELECT 1, REPEAT('x', 100), NULL", nil, nil); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	rows, bytesSeen := 0, 0
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.Stream(context.Background(), q, nil, func(row [][]byte) error {
		rows++
		bytesSeen += len(row[0]) + len(row[1])
		return nil
	})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if rows != n {
		t.Fatalf("got %d rows, want %d", rows, n)
	}
	mallocs := after.Mallocs - before.Mallocs
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d rows, %d bytes of values: %d mallocs, %d bytes allocated", rows, bytesSeen, mallocs, allocated)
	maxMallocs, maxBytes := uint64(1000), uint64(1<<20)
	if raceEnabled {
		// Under the race detector go-mysql's pooled buffers allocate again
		// now and then; still far less than the rows.
		maxMallocs, maxBytes = n, 8<<20
	}
	if mallocs > maxMallocs {
		t.Errorf("Stream of %d rows: %d allocations, want at most %d (none per row)", n, mallocs, maxMallocs)
	}
	if allocated > maxBytes {
		t.Errorf("Stream of %d rows (%d bytes): %d bytes allocated, want at most %d", n, bytesSeen, allocated, maxBytes)
	}
}
