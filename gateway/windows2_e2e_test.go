package gateway_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestSetOperationsJoinedWindowsAndRecursiveCTEsAcrossShards: INTERSECT
// and EXCEPT meet rows of every shard (each shard alone would miss the
// pairs it does not hold), a window over a gateway join numbers all the
// joined rows, a recursive CTE reading no table joins every shard's rows,
// and the rows the gateway holds for the first two count against its row
// budget (1041 past it, never a partial answer).
func TestSetOperationsJoinedWindowsAndRecursiveCTEsAcrossShards(t *testing.T) {
	db := shared.db(t, "service", "")
	for _, q := range []string{"drop table if exists w2_a", "drop table if exists w2_b",
		"create table w2_a (id bigint not null, v int, primary key (id))",
		"create table w2_b (id bigint not null, a_id bigint, primary key (id))"} {
		mustExec(t, db, q)
	}
	t.Cleanup(func() {
		mustExec(t, db, "drop table if exists w2_a")
		mustExec(t, db, "drop table if exists w2_b")
	})
	var as, bs []string
	for id := 1; id <= 40; id++ {
		as = append(as, fmt.Sprintf("(%d, %d)", id, id%10))
		bs = append(bs, fmt.Sprintf("(%d, %d)", 100+id, 41-id))
	}
	mustExec(t, db, "insert into w2_a (id, v) values "+strings.Join(as, ", "))
	mustExec(t, db, "insert into w2_b (id, a_id) values "+strings.Join(bs, ", "))

	// a.v is 0..9, four times each; b.a_id - 30 is -29..10, once each:
	// they share 0..9, and EXCEPT ALL keeps three copies of each v.
	if got := queryStrings(t, db, "select v from w2_a intersect select a_id - 30 from w2_b order by v"); len(got) != 10 || got[0][0] != "0" || got[9][0] != "9" {
		t.Errorf("INTERSECT: got %v, want 0..9", got)
	}
	if got := queryStrings(t, db, "select v from w2_a except all select a_id - 30 from w2_b"); len(got) != 30 {
		t.Errorf("EXCEPT ALL: got %d rows, want 30", len(got))
	}
	got := queryStrings(t, db, "select a.id, b.id, row_number() over (order by b.id) + 0 as rn from w2_a a join w2_b b on b.a_id = a.id order by b.id")
	if len(got) != 40 {
		t.Fatalf("window over a join: got %d rows, want 40", len(got))
	}
	for i, row := range got {
		want := []string{strconv.Itoa(40 - i), strconv.Itoa(101 + i), strconv.Itoa(i + 1)}
		if strings.Join(row, " ") != strings.Join(want, " ") {
			t.Errorf("window over a join, row %d: got %v, want %v", i+1, row, want)
		}
	}
	if got := queryStrings(t, db, "with recursive x as (select 1 as n union all select n + 1 from x where n < 50) select count(*), sum(w2_a.v) from x join w2_a on w2_a.id = x.n"); got[0][0] != "40" || got[0][1] != "180" {
		t.Errorf("recursive CTE joined with a sharded table: got %v, want 40 rows summing to 180", got)
	}

	small := smallBudgetDB(t, 20)
	for _, q := range []string{
		"select v from w2_a intersect select a_id from w2_b",
		"select a.id, row_number() over (order by b.id) from w2_a a join w2_b b on b.a_id = a.id",
	} {
		_, err := small.Query(q)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1041 {
			t.Errorf("%s with a budget of 20 rows: got %v, want error 1041", q, err)
		}
	}
}
