package gateway_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// Aggregation at the gateway over a derived table's rows
// (engine.AggregateRows): the answers are those computed here from the
// rows inserted, with MySQL's column types, and an input larger than
// --max-buffered-rows is a clear 1041, not a crash or a partial answer.
func TestAggregateOverDerivedRows(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "create table ar_user (id bigint not null, name varchar(10), age int, primary key (id))")
	t.Cleanup(func() { mustExec(t, db, "drop table ar_user") })
	names := []string{"ann", "Bob", "bob", "cy"} // Bob and bob are one group
	groups := map[string]int{}
	var values []string
	for id := 1; id <= 30; id++ {
		name := names[id%len(names)]
		groups[strings.ToLower(name)]++
		values = append(values, fmt.Sprintf("(%d, '%s', %d)", id, name, id))
	}
	mustExec(t, db, "insert into ar_user (id, name, age) values "+strings.Join(values, ", "))

	q := "select count(*), sum(x.c), max(x.c) from (select name, count(*) as c from ar_user group by name) x"
	maxGroup := 0
	for _, n := range groups {
		maxGroup = max(maxGroup, n)
	}
	want := fmt.Sprintf("%d %d %d", len(groups), 30, maxGroup)
	if got := strings.Join(queryStrings(t, db, q)[0], " "); got != want {
		t.Errorf("%s: got %s, want %s", q, got, want)
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	cts, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := cts[0].DatabaseTypeName() + " " + cts[1].DatabaseTypeName(); got != "BIGINT DECIMAL" {
		t.Errorf("%s: got column types %s, want BIGINT DECIMAL (COUNT, and SUM of a BIGINT)", q, got)
	}

	// A LIMITed derived table filtered and summed over its rows.
	q = "select count(*), sum(x.age) from (select id, age from ar_user order by id limit 10) x where x.age > 4"
	if got, want := strings.Join(queryStrings(t, db, q)[0], " "), "6 45"; got != want {
		t.Errorf("%s: got %s, want %s", q, got, want)
	}

	// The rows a derived UNION gives the gateway count against the budget.
	small := smallBudgetDB(t, 40)
	q = "select count(*) from (select id from ar_user union all select id from ar_user) x"
	if _, err := small.Query(q); err == nil {
		t.Fatalf("%s with a budget of 40 rows: got no error, want 1041", q)
	} else {
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1041 {
			t.Fatalf("%s with a budget of 40 rows: got %v, want 1041", q, err)
		}
	}
	q = "select count(*), sum(x.id) from (select id from ar_user where id <= 10 union all select id from ar_user where id > 25) x"
	if got, want := strings.Join(queryStrings(t, small, q)[0], " "), fmt.Sprintf("15 %d", 55+26+27+28+29+30); got != want {
		t.Errorf("%s with a budget of 40 rows: got %s, want %s", q, got, want)
	}
}
