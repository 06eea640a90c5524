package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainOfflineColumnlessInsert: offline there is no schema tracker;
// the columns of a column-less INSERT come from the --schema file or from
// the vschema's authoritative column list, and without either the
// statement is refused as the gateway refuses it.
func TestExplainOfflineColumnlessInsert(t *testing.T) {
	t.Run("columns from --schema", func(t *testing.T) {
		out, errs, code := offline(t, "--keyspace", "service", "--sql", "insert into orders values (5, 1, 10), (6, 2, 20)")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if !strings.Contains(out, "insert into `orders` (`user_id`,`id`,`amount`) values (5,1,10)") {
			t.Fatalf("got:\n%s\nwant the shard insert to name orders' columns", out)
		}
	})
	t.Run("columns from the vschema", func(t *testing.T) {
		dir := t.TempDir()
		vs := filepath.Join(dir, "vschema.json")
		if err := os.WriteFile(vs, []byte(`{"sharded": true, "vindexes": {"hash": {"type": "hash"}},
  "tables": {"item": {"column_vindexes": [{"column": "id", "name": "hash"}],
    "columns": [{"name": "id", "type": "bigint"}, {"name": "name", "type": "varchar(20)"}],
    "column_list_authoritative": true},
   "other": {"column_vindexes": [{"column": "id", "name": "hash"}]}}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		explain := func(sql string) (string, string, int) {
			var out, errb bytes.Buffer
			code := run(t.Context(), []string{"--topo-endpoints", "127.0.0.1:1", "explain", "--vschema", vs, "--keyspace", "shop", "--shards", "2", "--sql", sql}, &out, &errb)
			return out.String(), errb.String(), code
		}
		out, errs, code := explain("insert into item values (1, 'a')")
		if code != 0 || !strings.Contains(out, "insert into `item` (`id`,`name`) values (1,'a')") {
			t.Fatalf("exit %d, stderr %s, got:\n%s\nwant the shard insert to name item's columns", code, errs, out)
		}
		out, errs, code = explain("insert into other values (1, 'a')")
		if code == 0 || !strings.Contains(out+errs, "without a column list needs its columns") {
			t.Fatalf("exit %d, got:\n%s%s\nwant the refusal for unknown columns", code, out, errs)
		}
	})
}
