package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const explainVSchema = `{
  "global": {"tables": {"config": {}}},
  "service": {
    "sharded": true,
    "vindexes": {"hash": {"type": "hash"},
      "email_idx": {"type": "lookup_unique", "owner": "user", "params": {"table": "global.user_email_idx", "from": "email", "to": "keyspace_id"}}},
    "tables": {
      "user": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "email", "name": "email_idx"}]},
      "orders": {"column_vindexes": [{"column": "user_id", "name": "hash"}]}
    }
  }
}`

// offline runs shardctl with a topology address nothing listens on: explain
// must not need it.
func offline(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	dir := t.TempDir()
	vs := filepath.Join(dir, "vschema.json")
	schema := filepath.Join(dir, "schema.sql")
	if err := os.WriteFile(vs, []byte(explainVSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(schema, []byte("create table user (id bigint primary key, name varchar(20), email varchar(64));\ncreate table orders (user_id bigint, id bigint, amount int, primary key (user_id, id));"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	all := append([]string{"--topo-endpoints", "127.0.0.1:1", "explain", "--vschema", vs, "--schema", schema, "--shards", "4"}, args...)
	code := run(t.Context(), all, &out, &errb)
	return out.String(), errb.String(), code
}

func TestExplainOffline(t *testing.T) {
	t.Run("point select: one shard query", func(t *testing.T) {
		out, errs, code := offline(t, "--keyspace", "service", "--sql", "select id, name from user where id = 5")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if !strings.Contains(out, `"Variant": "EqualUnique"`) || strings.Count(out, "service   40-80") != 1 || strings.Count(out, "select `id`,`name` from `user` where `id` = 5") != 2 {
			t.Fatalf("got:\n%s\nwant an EqualUnique plan and one query on 40-80", out)
		}
	})
	t.Run("lookup vindex: the lookup query, then a shard", func(t *testing.T) {
		out, errs, code := offline(t, "--keyspace", "service", "--sql", "select id from user where email = 'a@x.com'")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if !strings.Contains(out, `"Vindex": "email_idx"`) || !strings.Contains(out, "select `keyspace_id` from `user_email_idx` where `email` in ('a@x.com')") {
			t.Fatalf("got:\n%s\nwant a plan routed by email_idx and its lookup query", out)
		}
	})
	t.Run("IN list: each shard its values, as JSON", func(t *testing.T) {
		out, errs, code := offline(t, "--keyspace", "service", "--format", "json", "--sql", "select id from user where id in (1, 2, 3, 4, 5)")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var got struct {
			Plan    map[string]any
			Queries []struct{ Keyspace, Shard, Query string }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		want := map[string]string{"-40": "(1, 2)", "40-80": "(3, 5)", "c0-": "(4)"}
		if len(got.Queries) != len(want) {
			t.Fatalf("got %d queries %v, want %d", len(got.Queries), got.Queries, len(want))
		}
		for _, q := range got.Queries {
			if !strings.HasSuffix(q.Query, "in "+want[q.Shard]) {
				t.Errorf("shard %s: got %q, want its values %s", q.Shard, q.Query, want[q.Shard])
			}
		}
	})
	t.Run("aggregate, join across keyspaces", func(t *testing.T) {
		out, errs, code := offline(t, "--keyspace", "service", "--sql", "select name, count(*) from user group by name")
		if code != 0 || strings.Count(out, "group by `name`") != 5 {
			t.Fatalf("exit %d %s:\n%s", code, errs, out)
		}
		out, errs, code = offline(t, "--keyspace", "service", "--sql", "select u.id, c.a from user u join global.config c on c.a = u.name")
		if code != 0 || !strings.Contains(out, `"OperatorType": "Join"`) {
			t.Fatalf("exit %d %s:\n%s", code, errs, out)
		}
	})
	t.Run("refusal and usage errors", func(t *testing.T) {
		_, errs, code := offline(t, "--keyspace", "service", "--sql", "select std(id) from user") // SUM(DISTINCT) was refused here until issue 14
		if code != exitError || !strings.Contains(errs, "STDDEV_POP across shards") {
			t.Fatalf("got exit %d, stderr %q, want 1 and the refusal", code, errs)
		}
		for _, args := range [][]string{{"--sql", "select 1", "--format", "yaml"}, {"--keyspace", "service"}} {
			if _, errs, code := offline(t, args...); code != exitUsage {
				t.Errorf("%q: got exit %d, stderr %q, want %d", args, code, errs, exitUsage)
			}
		}
	})
}
