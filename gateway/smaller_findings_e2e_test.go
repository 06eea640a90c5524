package gateway_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// Regression test (issue 15, finding 8): SET sql_mode to an unknown mode
// answered OK, then every later statement failed with 1231. It now fails
// at once with 1231 and the session keeps working.
func TestSetUnknownSQLModeAnswers1231(t *testing.T) {
	db := shared.db(t, "service", "")
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "set sql_mode='nosuch_mode'")
	wantMySQLError(t, err, 1231, "set sql_mode='nosuch_mode'")
	var one int
	if err := conn.QueryRowContext(context.Background(), "select 1").Scan(&one); err != nil {
		t.Fatalf("select 1 after the refused SET: %v", err)
	}
	if _, err := conn.ExecContext(context.Background(), "set sql_mode='ANSI_QUOTES,STRICT_ALL_TABLES'"); err != nil {
		t.Fatalf("a valid sql_mode: %v", err)
	}
	var mode string
	if err := conn.QueryRowContext(context.Background(), "select @@sql_mode").Scan(&mode); err != nil || mode != "ANSI_QUOTES,STRICT_ALL_TABLES" {
		t.Fatalf("sql_mode after SET: got %q, %v", mode, err)
	}
}

// Regression test (issue 15, finding 8): LOCK IN SHARE MODE was a syntax
// error; it runs like FOR UPDATE, on the row's shard.
func TestLockInShareMode(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "create table if not exists lock_t (id bigint primary key, v int)")
	mustExec(t, db, "replace into lock_t (id, v) values (7, 70)")
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		"select v from lock_t where id = 7 lock in share mode",
		"select v from lock_t where id = 7 for update",
	} {
		var v int
		if err := tx.QueryRow(q).Scan(&v); err != nil || v != 70 {
			t.Fatalf("%s: got %d, %v, want 70", q, v, err)
		}
	}
}

// Regression test (issue 15, finding 8): SELECT 1,2,...,100000 broke the
// shard connection ("malformed packet"); MariaDB answers it.
func TestSelectManyColumns(t *testing.T) {
	db := shared.db(t, "service", "")
	for _, n := range []int{300, 100_000} {
		items := make([]string, n)
		for i := range items {
			items[i] = strconv.Itoa(i + 1)
		}
		rows, err := db.Query("select " + strings.Join(items, ","))
		if err != nil {
			t.Fatalf("%d columns: %v", n, err)
		}
		cols, err := rows.Columns()
		if err != nil || len(cols) != n {
			t.Fatalf("%d columns: got %d, %v", n, len(cols), err)
		}
		rows.Close()
		var one int
		if err := db.QueryRow("select 1").Scan(&one); err != nil {
			t.Fatalf("after %d columns: %v", n, err)
		}
	}
}
