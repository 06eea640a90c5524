package gateway_test

import (
	"reflect"
	"testing"
)

// TestInformationSchemaByKeyspace: information_schema queries that GUI
// tools and ORMs send to browse a keyspace (TABLES, COLUMNS, STATISTICS,
// KEY_COLUMN_USAGE, SCHEMATA filtered by the keyspace's name) answer what
// the keyspace's shard has, whatever the session's keyspace, and again
// when the plan cache has seen the statement's shape with another name.
func TestInformationSchemaByKeyspace(t *testing.T) {
	svc := shared.db(t, "service", "")
	mustExec(t, svc, "drop table if exists is_items")
	mustExec(t, svc, "create table is_items (id bigint primary key, name varchar(20), key by_name (name))")
	t.Cleanup(func() { svc.Exec("drop table if exists is_items") })
	direct := shared.shardDB(t, "service", serviceShards[0])

	queries := []string{
		"select table_name, table_type, engine from information_schema.tables where table_schema = 'service' and table_name = 'is_items'",
		"select column_name, column_type, column_key from information_schema.columns where table_schema = 'service' and table_name = 'is_items' order by ordinal_position",
		"select index_name, column_name, non_unique from information_schema.statistics where table_schema = 'service' and table_name = 'is_items' order by index_name",
		"select constraint_name, column_name from information_schema.key_column_usage where table_schema = 'service' and table_name = 'is_items'",
		"select schema_name from information_schema.schemata where schema_name = 'service'",
	}
	for _, database := range []string{"global", ""} {
		db := shared.db(t, database, "")
		for _, q := range queries {
			want := queryStrings(t, direct, q)
			if len(want) == 0 {
				t.Fatalf("%s: the shard itself answers no rows", q)
			}
			for range 2 { // the second run may come from the plan cache
				if got := queryStrings(t, db, q); !reflect.DeepEqual(got, want) {
					t.Errorf("session database %q: %s\ngot  %v\nwant %v (the service shard's answer)", database, q, got, want)
				}
			}
		}
		// The same shape, another keyspace: global's own tables, not
		// service's answer from a cached plan.
		got := queryStrings(t, db, "select schema_name from information_schema.schemata where schema_name = 'global'")
		if !reflect.DeepEqual(got, [][]string{{"global"}}) {
			t.Errorf("session database %q: schemata of global: got %v, want [[global]]", database, got)
		}
	}
}
