package gateway_test

import (
	"context"
	"fmt"
	"testing"
)

// TestRowMove: an UPDATE of the primary vindex column moves the row to
// the new value's shard (delete + insert in one transaction), keeping
// every column, and the other SET expressions apply.
func TestRowMove(t *testing.T) {
	db := shared.db(t, "service", "")
	ids := idsOnDistinctShards(t, 3)
	a, b, c3 := ids[0], ids[1], ids[2]
	mustExec(t, db, "drop table if exists moves")
	mustExec(t, db, "create table moves (id bigint primary key, name varchar(20), bin varbinary(8), at datetime(3), n int)")
	mustExec(t, db, "insert into moves (id, name, bin, at, n) values (?, 'x', unhex('00ff10'), '2024-02-29 12:34:56.789', null)", a)

	where := func(id int64) string {
		t.Helper()
		var out []string
		for _, sh := range serviceShards {
			if len(queryStrings(t, shared.shardDB(t, "service", sh), "select id from moves where id = ?", id)) > 0 {
				out = append(out, sh)
			}
		}
		return fmt.Sprint(out)
	}

	mustExec(t, db, "update moves set id = ?, name = concat(name, '!') where id = ?", b, a)
	if got, want := where(b), fmt.Sprint([]string{shardOf(t, b)}); got != want {
		t.Fatalf("moved row is on %s, want %s", got, want)
	}
	if got := where(a); got != "[]" {
		t.Errorf("old row still on %s", got)
	}
	got := queryStrings(t, db, "select id, name, hex(bin), at, n from moves")
	want := [][]string{{fmt.Sprint(b), "x!", "00FF10", "2024-02-29 12:34:56.789", "NULL"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("moved row: got %v, want %v", got, want)
	}

	// Inside a transaction that rolls back, the row stays where it was.
	conn := pin(t, db)
	cexec(t, conn, "begin")
	cexec(t, conn, fmt.Sprintf("update moves set id = %d where id = %d", c3, b))
	cexec(t, conn, "rollback")
	if got := where(b); got != fmt.Sprint([]string{shardOf(t, b)}) {
		t.Errorf("after rollback the row is on %s", got)
	}

	// transaction_mode single refuses a move to another shard.
	cexec(t, conn, "set transaction_mode = 'single'")
	_, err := conn.ExecContext(context.Background(), fmt.Sprintf("update moves set id = %d where id = %d", c3, b))
	wantMySQLError(t, err, 1235, "row move in single mode")
	if got := where(b); got != fmt.Sprint([]string{shardOf(t, b)}) {
		t.Errorf("after the refused move the row is on %s", got)
	}

	_, err = db.Exec("update moves set id = id + 1 where id = ?", b)
	wantMySQLError(t, err, 1235, "vindex column set to an expression")
}
