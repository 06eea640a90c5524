package gateway_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// stmtIDs are ids for the statement-atomicity tests: two on shard A (the
// transaction writes there first), one each on B and C.
type stmtIDs struct{ a1, a2, b, c int64 }

func pickStmtIDs(t testing.TB) stmtIDs {
	t.Helper()
	ids := idsOnDistinctShards(t, 3)
	out := stmtIDs{a1: ids[0], b: ids[1], c: ids[2]}
	for id := ids[0] + 1; ; id++ {
		if shardOf(t, id) == shardOf(t, ids[0]) {
			out.a2 = id
			return out
		}
	}
}

// shardRows reads "id:v" of every row of table on every service shard
// directly, sorted: what the shards hold, not what the gateway says.
func shardRows(t testing.TB, table string) string {
	t.Helper()
	var rows []string
	for _, shard := range serviceShards {
		for _, r := range queryStrings(t, shared.shardDB(t, "service", shard), "select id, v from "+table) {
			rows = append(rows, r[0]+":"+r[1])
		}
	}
	sort.Strings(rows)
	return strings.Join(rows, " ")
}

func wantShardRows(t testing.TB, table, want string) {
	t.Helper()
	ids := strings.Fields(want)
	sort.Strings(ids)
	if got := shardRows(t, table); got != strings.Join(ids, " ") {
		t.Errorf("%s on the shards: got [%s], want [%s]", table, got, strings.Join(ids, " "))
	}
}

func row(id int64, v int) string { return fmt.Sprintf("%d:%d", id, v) }

// TestMultiShardWriteFailureUndoneInTransaction: inside an open
// transaction, an INSERT, UPDATE or DELETE reaching several shards that
// fails on one of them leaves nothing of itself on any shard (the one the
// transaction wrote to before, one it joins with the statement), the
// transaction goes on, and after COMMIT the shards hold exactly the
// transaction's other writes, in twopc and multi mode. Without statement
// savepoints the other shards kept their part.
func TestMultiShardWriteFailureUndoneInTransaction(t *testing.T) {
	ids := pickStmtIDs(t)
	db := shared.db(t, "service", "")
	for _, mode := range []string{"twopc", "multi"} {
		t.Run(mode+"/insert duplicate", func(t *testing.T) {
			table := "sa_ins_" + mode
			mustExec(t, db, "drop table if exists "+table)
			mustExec(t, db, "create table "+table+" (id bigint primary key, v int)")
			mustExec(t, db, "insert into "+table+" (id, v) values (?, 0)", ids.c)
			c := pin(t, db)
			cexec(t, c, "set transaction_mode = '"+mode+"'")
			cexec(t, c, "begin")
			cexec(t, c, "insert into "+table+" (id, v) values (?, 1)", ids.a1)
			// a2 on the shard written before, b on a shard joining now, c
			// a duplicate on a third.
			_, err := c.ExecContext(context.Background(), "insert into "+table+" (id, v) values (?, 2), (?, 2), (?, 2)", ids.a2, ids.b, ids.c)
			wantMySQLError(t, err, 1062, "multi-shard insert with a duplicate")
			// The transaction goes on, and sees its own earlier write only.
			if got := cvalue(t, c, "select group_concat(id order by id) from "+table); got != joinIDs(ids.a1, ids.c) {
				t.Errorf("inside the transaction: got ids %s, want %s", got, joinIDs(ids.a1, ids.c))
			}
			cexec(t, c, "insert into "+table+" (id, v) values (?, 3)", ids.b)
			cexec(t, c, "commit")
			wantShardRows(t, table, strings.Join([]string{row(ids.a1, 1), row(ids.b, 3), row(ids.c, 0)}, " "))
		})
		t.Run(mode+"/update check constraint", func(t *testing.T) {
			table := "sa_upd_" + mode
			mustExec(t, db, "drop table if exists "+table)
			mustExec(t, db, "create table "+table+" (id bigint primary key, v int, lim int, check (v <= lim))")
			for _, id := range []int64{ids.a1, ids.a2, ids.b, ids.c} {
				lim := 100
				if id == ids.c {
					lim = 10
				}
				mustExec(t, db, "insert into "+table+" (id, v, lim) values (?, 0, ?)", id, lim)
			}
			c := pin(t, db)
			cexec(t, c, "set transaction_mode = '"+mode+"'")
			cexec(t, c, "begin")
			cexec(t, c, "update "+table+" set v = 5 where id = ?", ids.a1)
			// Every shard; the row on c's shard breaks its CHECK.
			_, err := c.ExecContext(context.Background(), "update "+table+" set v = v + 50")
			wantMySQLError(t, err, 4025, "multi-shard update breaking a CHECK on one shard")
			cexec(t, c, "update "+table+" set v = 7 where id = ?", ids.b)
			cexec(t, c, "commit")
			wantShardRows(t, table, strings.Join([]string{row(ids.a1, 5), row(ids.a2, 0), row(ids.b, 7), row(ids.c, 0)}, " "))
		})
		t.Run(mode+"/delete trigger", func(t *testing.T) {
			table := "sa_del_" + mode
			mustExec(t, db, "drop table if exists "+table)
			mustExec(t, db, "create table "+table+" (id bigint primary key, v int)")
			for _, id := range []int64{ids.a1, ids.a2, ids.b, ids.c} {
				mustExec(t, db, "insert into "+table+" (id, v) values (?, 0)", id)
			}
			// A trigger on c's shard only refuses deleting its row.
			shard := shared.shardDB(t, "service", shardOf(t, ids.c))
			mustExec(t, shard, fmt.Sprintf("create trigger %s_keep before delete on %s for each row begin if old.id = %d then signal sqlstate '45000' set message_text = 'kept'; end if; end", table, table, ids.c))
			c := pin(t, db)
			cexec(t, c, "set transaction_mode = '"+mode+"'")
			cexec(t, c, "begin")
			cexec(t, c, "delete from "+table+" where id = ?", ids.a1)
			_, err := c.ExecContext(context.Background(), "delete from "+table+" where id in (?, ?, ?)", ids.a2, ids.b, ids.c)
			wantMySQLError(t, err, 1644, "multi-shard delete refused by a trigger on one shard")
			cexec(t, c, "update "+table+" set v = 9 where id = ?", ids.b)
			cexec(t, c, "commit")
			wantShardRows(t, table, strings.Join([]string{row(ids.a2, 0), row(ids.b, 9), row(ids.c, 0)}, " "))
		})
		t.Run(mode+"/autocommit", func(t *testing.T) {
			table := "sa_auto_" + mode
			mustExec(t, db, "drop table if exists "+table)
			mustExec(t, db, "create table "+table+" (id bigint primary key, v int)")
			mustExec(t, db, "insert into "+table+" (id, v) values (?, 0)", ids.c)
			c := pin(t, db)
			cexec(t, c, "set transaction_mode = '"+mode+"'")
			_, err := c.ExecContext(context.Background(), "insert into "+table+" (id, v) values (?, 2), (?, 2), (?, 2)", ids.a1, ids.b, ids.c)
			wantMySQLError(t, err, 1062, "autocommit multi-shard insert with a duplicate")
			wantShardRows(t, table, row(ids.c, 0))
		})
	}
}

// TestStatementSavepointKeepsUserSavepoints: the statement savepoint does
// not disturb the client's own: after a failed multi-shard statement,
// ROLLBACK TO a savepoint set before it still works, and a savepoint set
// after the failure too.
func TestStatementSavepointKeepsUserSavepoints(t *testing.T) {
	ids := pickStmtIDs(t)
	db := shared.db(t, "service", "")
	table := "sa_usersp"
	mustExec(t, db, "drop table if exists "+table)
	mustExec(t, db, "create table "+table+" (id bigint primary key, v int)")
	mustExec(t, db, "insert into "+table+" (id, v) values (?, 0)", ids.c)
	c := pin(t, db)
	cexec(t, c, "begin")
	cexec(t, c, "insert into "+table+" (id, v) values (?, 1)", ids.a1)
	cexec(t, c, "savepoint s1")
	cexec(t, c, "insert into "+table+" (id, v) values (?, 1)", ids.b)
	_, err := c.ExecContext(context.Background(), "insert into "+table+" (id, v) values (?, 2), (?, 2)", ids.a2, ids.c)
	wantMySQLError(t, err, 1062, "multi-shard insert with a duplicate")
	cexec(t, c, "insert into "+table+" (id, v) values (?, 4), (?, 4)", ids.a2, ids.c+1000003)
	cexec(t, c, "rollback to savepoint s1")
	cexec(t, c, "savepoint s2")
	cexec(t, c, "update "+table+" set v = 6")
	cexec(t, c, "rollback to savepoint s2")
	cexec(t, c, "commit")
	wantShardRows(t, table, strings.Join([]string{row(ids.a1, 1), row(ids.c, 0)}, " "))
}

func joinIDs(ids ...int64) string {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ",")
}
