package gateway_test

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// TestInformationSchemaTableSizesSummed: information_schema.TABLES of a
// sharded keyspace shows TABLE_ROWS, DATA_LENGTH and INDEX_LENGTH summed
// over the keyspace's shards (what each shard reports, read from the
// shards directly), by name, by alias and with *, not one shard's.
func TestInformationSchemaTableSizesSummed(t *testing.T) {
	svc := shared.db(t, "service", "")
	mustExec(t, svc, "drop table if exists iss_items")
	mustExec(t, svc, "create table iss_items (id bigint primary key, name varchar(20), key by_name (name))")
	t.Cleanup(func() { svc.Exec("drop table if exists iss_items") })
	for i := 1; i <= 60; i++ {
		mustExec(t, svc, "insert into iss_items (id, name) values (?, ?)", i, fmt.Sprintf("item%d", i))
	}
	const where = " from information_schema.tables where table_schema = 'service' and table_name = 'iss_items'"
	// Fresh statistics on every shard, so what each reports is settled.
	var want [3]uint64
	var most uint64
	for _, shard := range serviceShards {
		direct := shared.shardDB(t, "service", shard)
		queryStrings(t, direct, "analyze table iss_items")
		got := queryStrings(t, direct, "select table_rows, data_length, index_length"+where)
		for i := range want {
			n, err := strconv.ParseUint(got[0][i], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			want[i] += n
			if i == 0 {
				most = max(most, n)
			}
		}
	}
	if want[0] <= most {
		t.Fatalf("the rows are on one shard only (%d of %d): the test needs them spread", most, want[0])
	}
	wantRow := []string{"iss_items", fmt.Sprint(want[0]), fmt.Sprint(want[1]), fmt.Sprint(want[2])}
	for _, database := range []string{"service", "global"} {
		db := shared.db(t, database, "")
		for _, q := range []string{
			"select table_name, table_rows, data_length, index_length" + where,
			"select table_name, table_rows as n, data_length as d, index_length as i" + where + " order by table_name",
		} {
			for range 2 { // the second run may come from the plan cache
				if got := queryStrings(t, db, q); !reflect.DeepEqual(got, [][]string{wantRow}) {
					t.Errorf("session database %q: %s\ngot  %v\nwant [%v] (the shards' sums)", database, q, got, wantRow)
				}
			}
		}
		rows, err := db.Query("select *" + where)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new([]byte)
		}
		n := 0
		for rows.Next() {
			n++
			if err := rows.Scan(vals...); err != nil {
				t.Fatal(err)
			}
			at := slices.Index(cols, "TABLE_ROWS")
			if got := string(*vals[at].(*[]byte)); got != wantRow[1] {
				t.Errorf("session database %q: select *: TABLE_ROWS = %s, want %s", database, got, wantRow[1])
			}
		}
		rows.Close()
		if n != 1 {
			t.Errorf("session database %q: select *: %d rows, want 1", database, n)
		}
	}
}

// TestInformationSchemaSchemataListsKeyspaces: SCHEMATA naming no one
// keyspace lists the keyspaces (as SHOW DATABASES does), not one shard
// instance's databases (information_schema, mysql, ...), in name order or
// the ORDER BY schema_name asked.
func TestInformationSchemaSchemataListsKeyspaces(t *testing.T) {
	db := shared.db(t, "service", "")
	var keyspaces [][]string
	for _, r := range queryStrings(t, db, "show databases") {
		keyspaces = append(keyspaces, []string{r[0]})
	}
	slices.SortFunc(keyspaces, func(a, b []string) int { return cmpStrings(a[0], b[0]) })
	if len(keyspaces) < 2 {
		t.Fatalf("show databases: %v, want at least two keyspaces", keyspaces)
	}
	if got := queryStrings(t, db, "select schema_name from information_schema.schemata"); !reflect.DeepEqual(got, keyspaces) {
		t.Errorf("schemata: got %v, want %v", got, keyspaces)
	}
	rows := queryStrings(t, db, "select * from information_schema.schemata")
	if len(rows) != len(keyspaces) {
		t.Fatalf("select * from schemata: got %v, want one row per keyspace %v", rows, keyspaces)
	}
	for i, r := range rows {
		if r[1] != keyspaces[i][0] || r[2] != "utf8mb4" {
			t.Errorf("select * from schemata row %d: got %v, want schema %s, charset utf8mb4", i, r, keyspaces[i][0])
		}
	}
	desc := slices.Clone(keyspaces)
	slices.Reverse(desc)
	if got := queryStrings(t, db, "select schema_name from information_schema.schemata where schema_name in ('service', 'global', 'mysql') order by schema_name desc"); !reflect.DeepEqual(got, [][]string{{"service"}, {"global"}}) {
		t.Errorf("schemata of two keyspaces (and mysql) descending: got %v, want [[service] [global]]", got)
	}
	if got := queryStrings(t, db, "select schema_name from information_schema.schemata order by schema_name desc"); !reflect.DeepEqual(got, desc) {
		t.Errorf("schemata descending: got %v, want %v", got, desc)
	}
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
