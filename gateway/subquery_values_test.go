package gateway_test

import (
	"slices"
	"testing"
)

// Uncorrelated subqueries bound as values across shards: ANY/ALL keep
// MySQL's truth table over NULLs and the empty set, and a subquery of the
// wrong shape is MySQL's error (1241 operand columns, 1242 several rows)
// wherever it stands: select-list expression, HAVING, row IN, ANY.
func TestSubqueryValuesAcrossShards(t *testing.T) {
	db := shared.db(t, "service", "")
	semiJoinData(t, db) // sj_user 1..6, sj_tag user_id 1, 2, NULL, 3
	for _, c := range []struct {
		query string
		want  []int64
	}{
		// 2 > ANY (1, 2, NULL, 3) is true; 1 > ANY is NULL: dropped.
		{"select id from sj_user where id > any (select user_id from sj_tag) order by id", []int64{2, 3, 4, 5, 6}},
		// ALL over a set with NULL is never true; over no rows always.
		{"select id from sj_user where id > all (select user_id from sj_tag)", nil},
		{"select id from sj_user where id > all (select user_id from sj_tag where label = 'none') order by id", []int64{1, 2, 3, 4, 5, 6}},
		{"select id from sj_user where id <> all (select user_id from sj_tag where user_id is not null) order by id", []int64{4, 5, 6}},
		// row IN: (2, 'b') meets tag 2 case-insensitively.
		{"select id from sj_user where (id, name) in (select user_id, label from sj_tag) order by id", []int64{1, 2}},
		// HAVING and ORDER BY with a subquery's value.
		{"select count(*) from sj_user group by name is null having count(*) > (select count(*) from sj_tag where label = 'b') - 2 order by 1", []int64{1, 5}},
		{"select id from sj_user order by abs(id - (select max(user_id) from sj_tag)), id limit 3", []int64{3, 2, 4}},
	} {
		got := ints(t, db, c.query)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.query, got, c.want)
		}
	}
	for _, c := range []struct {
		query string
		want  uint16
	}{
		{"select id, 1 + (select user_id from sj_tag) from sj_user", 1242},
		{"select id, 1 + (select id, user_id from sj_tag) from sj_user", 1241},
		{"select count(*) from sj_user group by name having count(*) > (select user_id from sj_tag)", 1242},
		{"select id from sj_user where (id, name) in (select user_id from sj_tag)", 1241},
		{"select id from sj_user where id > any (select id, user_id from sj_tag)", 1241},
	} {
		rows, err := db.Query(c.query)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if errNumber(err) != c.want {
			t.Errorf("%s: got %v, want error %d", c.query, err, c.want)
		}
	}
}
