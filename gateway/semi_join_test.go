package gateway_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
)

// semiJoinData: users named so that correlated EXISTS / IN over tags
// (sharded by their own id, so never co-located with users) meet NULLs on
// both sides.
func semiJoinData(t *testing.T, db *sql.DB) {
	t.Helper()
	mustExec(t, db, "create table sj_user (id bigint not null, name varchar(10), primary key (id))")
	mustExec(t, db, "create table sj_tag (id bigint not null, user_id bigint, label varchar(10), primary key (id))")
	t.Cleanup(func() {
		mustExec(t, db, "drop table sj_user")
		mustExec(t, db, "drop table sj_tag")
	})
	mustExec(t, db, "insert into sj_user (id, name) values (1, 'a'), (2, 'B'), (3, 'x'), (4, 'b'), (5, 'c'), (6, null)")
	mustExec(t, db, "insert into sj_tag (id, user_id, label) values (1, 1, 'a'), (2, 2, 'b'), (3, null, 'b'), (4, 3, 'c')")
}

// Correlated subqueries that are not co-located give MySQL's answers,
// NULL semantics included: x IN (a set with NULL and without x) is NULL
// and x NOT IN (it) is NULL too, so a WHERE keeps neither.
func TestSemiJoinCorrelatedAcrossShards(t *testing.T) {
	db := shared.db(t, "service", "")
	semiJoinData(t, db)
	for _, c := range []struct {
		query string
		want  []int64
	}{
		// Labels compare case-insensitively: user 2 'B' meets tag 'b'.
		{"select u.id from sj_user u where exists (select 1 from sj_tag t where t.label = u.name)", []int64{1, 2, 4, 5}},
		{"select u.id from sj_user u where not exists (select 1 from sj_tag t where t.label = u.name)", []int64{3, 6}},
		// user 4: 4 in (2, NULL) is NULL; user 3: its set is empty.
		{"select u.id from sj_user u where u.id in (select t.user_id from sj_tag t where t.label = u.name)", []int64{1, 2}},
		{"select u.id from sj_user u where u.id not in (select t.user_id from sj_tag t where t.label = u.name)", []int64{3, 5, 6}},
		// The inner query routed by its vindex column, ordered and limited outside.
		{"select t.id from sj_tag t where exists (select 1 from sj_user u where u.id = t.user_id and u.name = 'b') order by t.id desc limit 1", []int64{2}},
		{"select t.id from sj_tag t where not exists (select 1 from sj_user u where u.id = t.user_id) order by t.id", []int64{3}},
	} {
		got := ints(t, db, c.query)
		if !strings.Contains(c.query, "order by") {
			slices.Sort(got)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.query, got, c.want)
		}
		var plan string
		if err := db.QueryRow("vexplain plan " + c.query).Scan(&plan); err != nil {
			t.Fatalf("vexplain plan %s: %v", c.query, err)
		}
		if !strings.Contains(plan, `"SemiJoin"`) {
			t.Errorf("vexplain plan %s: no SemiJoin in %s", c.query, plan)
		}
	}
}

// UPDATE and DELETE with a subquery over another table run it first and
// change exactly the rows MySQL would, checked on the shards directly;
// inside a transaction a rollback undoes them.
func TestDMLWithSubqueryAcrossShards(t *testing.T) {
	db := shared.db(t, "service", "")
	semiJoinData(t, db)
	onShards := func(query string) []int64 {
		var out []int64
		for _, shard := range serviceShards {
			out = append(out, ints(t, shared.shardDB(t, "service", shard), query)...)
		}
		slices.Sort(out)
		return out
	}

	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("delete from sj_user where id in (select user_id from sj_tag)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := onShards("select id from sj_user"); len(got) != 6 {
		t.Fatalf("after a rolled back DELETE: got users %v on the shards, want 6", got)
	}

	// NULL user_id is no value: only user 2 has a 'b' tag.
	r, err := db.Exec("delete from sj_user where id in (select user_id from sj_tag where label = 'b')")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		t.Errorf("DELETE ... IN (subquery): got %d rows affected, want 1", n)
	}
	if got, want := onShards("select id from sj_user"), []int64{1, 3, 4, 5, 6}; !slices.Equal(got, want) {
		t.Errorf("users on the shards: got %v, want %v", got, want)
	}
	// NOT IN a set holding NULL is never true: nothing changes.
	mustExec(t, db, "update sj_user set name = 'z' where id not in (select user_id from sj_tag)")
	if got := onShards("select id from sj_user where name = 'z'"); len(got) != 0 {
		t.Errorf("UPDATE ... NOT IN (a set with NULL) changed users %v", got)
	}
	mustExec(t, db, "update sj_user set name = 'z' where id not in (select user_id from sj_tag where user_id is not null)")
	if got, want := onShards("select id from sj_user where name = 'z'"), []int64{4, 5, 6}; !slices.Equal(got, want) {
		t.Errorf("users renamed on the shards: got %v, want %v", got, want)
	}
	// The subquery may read the target table: it is read whole first.
	mustExec(t, db, "delete from sj_user where id > (select avg(id) from sj_user)")
	if got, want := onShards("select id from sj_user"), []int64{1, 3}; !slices.Equal(got, want) {
		t.Errorf("users on the shards after deleting those above the average: got %v, want %v", got, want)
	}
	_, err = db.Exec("update sj_user set name = 'q' where id = (select user_id from sj_tag)")
	if errNumber(err) != 1242 {
		t.Errorf("scalar subquery of several rows in an UPDATE: got %v, want error 1242", err)
	}
}
