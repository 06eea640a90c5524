package gateway_test

import (
	"testing"
)

// Under sql_mode NO_BACKSLASH_ESCAPES a backslash in a literal is a plain
// character, in the text the gateway parses and in what reaches the
// shards, sharded and unsharded, text and prepared.
func TestNoBackslashEscapes(t *testing.T) {
	for _, ks := range []string{"service", "global"} {
		plain := shared.db(t, ks, "")
		mustExec(t, plain, "create table nbe (id bigint not null, v varchar(20), primary key (id))")
		t.Cleanup(func() { mustExec(t, plain, "drop table nbe") })
		for _, params := range []string{"sql_mode='NO_BACKSLASH_ESCAPES'", "sql_mode='NO_BACKSLASH_ESCAPES'&interpolateParams=true"} {
			db := shared.db(t, ks, params)
			mustExec(t, db, "delete from nbe")
			mustExec(t, db, `insert into nbe (id, v) values (1, 'a\nb'), (2, 'it''s\')`)
			mustExec(t, db, "insert into nbe (id, v) values (?, ?)", 3, `c:\x`)
			got := queryStrings(t, db, `select id, v, length(v) from nbe where v like '%\\%' order by id`)
			want := [][]string{{"1", `a\nb`, "4"}, {"2", `it's\`, "5"}, {"3", `c:\x`, "4"}}
			if len(got) != len(want) {
				t.Fatalf("%s %s: got rows %q, want %q", ks, params, got, want)
			}
			for i := range want {
				for j := range want[i] {
					if got[i][j] != want[i][j] {
						t.Errorf("%s %s: row %d: got %q, want %q", ks, params, i, got[i], want[i])
					}
				}
			}
		}
		// The default mode reads the same rows with escapes again.
		if rows := queryStrings(t, plain, `select v from nbe where v = 'a\\nb'`); len(rows) != 1 {
			t.Errorf("%s: in the default mode 'a\\\\nb' matched %q, want one row", ks, rows)
		}
	}
}
