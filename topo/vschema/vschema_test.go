package vschema

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/vindex"
)

// TestParseRoundTrip parses Vitess vschemas and checks that they marshal
// back to the same JSON.
func TestParseRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("got %d testdata files (%v), want some", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			k, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse(%s): got error %v, want none", f, err)
			}
			out, err := json.Marshal(k)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(in, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip of %s:\ngot  %s\nwant %s", f, out, in)
			}
		})
	}
}

func TestParseStrict(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"unknown field", `{"sharded": true, "tabels": {}}`, `unknown field "tabels"`},
		{"unknown table field", `{"tables": {"t": {"pinned": "00"}}}`, `unknown field "pinned"`},
		{"trailing data", `{} {}`, "data after the vschema object"},
		{"trailing brace", `{}}`, "data after the vschema object"},
		{"not json", `sharded: true`, "invalid character"},
		{"wrong type", `{"sharded": "yes"}`, "cannot unmarshal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse(%s): got error %v, want one containing %q", c.in, err, c.want)
			}
		})
	}
}

// TestValidateErrors pins one error per rule; each message names the
// culprit.
func TestValidateErrors(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{
			"unknown vindex type",
			`{"sharded": true, "vindexes": {"h": {"type": "hsh"}}}`,
			[]string{`unknown vindex type "hsh" for vindex "h" (known types: binary, consistent_lookup,`},
		},
		{
			"lookup owner does not use it",
			`{"sharded": true, "vindexes": {"h": {"type": "hash"},
			    "e": {"type": "lookup_unique", "owner": "t", "params": {"table": "g.e", "from": "email", "to": "ksid"}}},
			  "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}]}}}`,
			[]string{`lookup vindex "e" has owner "t", which does not use it`},
		},
		{
			"lookup as primary vindex",
			`{"sharded": true, "vindexes": {"e": {"type": "lookup_unique", "params": {"table": "g.e", "from": "email", "to": "ksid"}}},
			  "tables": {"t": {"column_vindexes": [{"column": "email", "name": "e"}]}}}`,
			[]string{`table "t" primary vindex "e" (type lookup_unique) must be functional`},
		},
		{
			"lookup params",
			`{"sharded": true, "vindexes": {"e": {"type": "lookup", "params": {"table": "g.e"}}}}`,
			[]string{`vindex "e": vindex "e" (lookup): missing params from, to`},
		},
		{
			"null vindex",
			`{"sharded": true, "vindexes": {"h": null}}`,
			[]string{`vindex "h" is null`},
		},
		{
			"owner not a table",
			`{"sharded": true, "vindexes": {"h": {"type": "hash", "owner": "nope"}}}`,
			[]string{`vindex "h" has owner "nope", which is not a table`},
		},
		{
			"undefined vindex",
			`{"sharded": true, "vindexes": {"h": {"type": "hash"}},
			  "tables": {"t": {"column_vindexes": [{"column": "id", "name": "x"}]}}}`,
			[]string{`table "t" uses undefined vindex "x"`},
		},
		{
			"no primary vindex",
			`{"sharded": true, "tables": {"t": {}}}`,
			[]string{`sharded table "t" has no primary vindex (column_vindexes is empty)`},
		},
		{
			"column not declared",
			`{"sharded": true, "vindexes": {"h": {"type": "hash"}},
			  "tables": {"t": {"column_vindexes": [{"column": "c", "name": "h"}], "columns": [{"name": "id"}]}}}`,
			[]string{`table "t" column vindex "h" names column "c" not in its declared columns`},
		},
		{
			"auto_increment column not declared",
			`{"tables": {"t": {"auto_increment": {"column": "c", "sequence": "s"}, "columns": [{"name": "id"}]}}}`,
			[]string{`table "t" auto_increment names column "c" not in its declared columns`},
		},
		{
			"auto_increment incomplete",
			`{"tables": {"t": {"auto_increment": {"column": "", "sequence": ""}}}}`,
			[]string{`table "t" auto_increment has no column`, `table "t" auto_increment has no sequence`},
		},
		{
			"unsharded with column vindexes",
			`{"vindexes": {"h": {"type": "hash"}},
			  "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}]}}}`,
			[]string{`table "t" has column vindexes, but the keyspace is unsharded`},
		},
		{
			"unknown table type",
			`{"tables": {"t": {"type": "view"}}}`,
			[]string{`table "t" has unknown type "view"`},
		},
		{
			"sequence in sharded keyspace",
			`{"sharded": true, "tables": {"s": {"type": "sequence"}}}`,
			[]string{`sequence table "s" must be in an unsharded keyspace`},
		},
		{
			"reference table with vindex",
			`{"sharded": true, "vindexes": {"h": {"type": "hash"}},
			  "tables": {"r": {"type": "reference", "column_vindexes": [{"column": "id", "name": "h"}]}}}`,
			[]string{`reference table "r" must not have column vindexes`},
		},
		{
			"source on ordinary table",
			`{"tables": {"t": {"source": "ks.t"}}}`,
			[]string{`table "t" has a source but is not a reference table`},
		},
		{
			"source not qualified",
			`{"tables": {"r": {"type": "reference", "source": "r"}}}`,
			[]string{`reference table "r" has source "r", want keyspace.table`},
		},
		{
			"column and columns",
			`{"sharded": true, "vindexes": {"h": {"type": "hash"}},
			  "tables": {"t": {"column_vindexes": [{"column": "a", "columns": ["b"], "name": "h"}]}}}`,
			[]string{`table "t" column vindex "h" sets both column and columns`},
		},
		{
			"no column",
			`{"sharded": true, "vindexes": {"h": {"type": "hash"}},
			  "tables": {"t": {"column_vindexes": [{"name": "h"}]}}}`,
			[]string{`table "t" column vindex "h" names no column`},
		},
		{
			"functional vindex on two columns",
			`{"sharded": true, "vindexes": {"h": {"type": "hash"}},
			  "tables": {"t": {"column_vindexes": [{"columns": ["a", "b"], "name": "h"}]}}}`,
			[]string{`table "t" column vindex "h": vindex type hash takes one column, not 2`},
		},
		{
			"null table",
			`{"tables": {"t": null}}`,
			[]string{`table "t" is null`},
		},
		{
			"declared column twice",
			`{"tables": {"t": {"columns": [{"name": "a"}, {"name": "a"}]}}}`,
			[]string{`table "t" declares column "a" twice`},
		},
		{
			"several problems at once",
			`{"sharded": true, "vindexes": {"h": {"type": "hsh"}},
			  "tables": {"a": {}, "b": {"column_vindexes": [{"column": "id", "name": "x"}]}}}`,
			[]string{`unknown vindex type "hsh" for vindex "h"`, `sharded table "a" has no primary vindex`, `table "b" uses undefined vindex "x"`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if err == nil {
				t.Fatalf("Parse(%s): got no error, want %q", c.in, c.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%s): got error %v, want one wrapping ErrInvalid", c.in, err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != len(c.want) {
				t.Errorf("Parse(%s): got problems %v, want %d", c.in, err, len(c.want))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%s): got error %q, want it to contain %q", c.in, err, w)
				}
			}
		})
	}
}

func TestValidateUnknownTypeIsSentinel(t *testing.T) {
	_, err := Parse([]byte(`{"sharded": true, "vindexes": {"h": {"type": "hsh"}}}`))
	if !errors.Is(err, vindex.ErrUnknownType) {
		t.Errorf("got error %v, want one wrapping vindex.ErrUnknownType", err)
	}
}

func mustParse(t *testing.T, s string) *Keyspace {
	t.Helper()
	k, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return k
}

func mustParseFile(t *testing.T, name string) *Keyspace {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(b))
}

func TestBuild(t *testing.T) {
	vs, err := Build(map[string]*Keyspace{
		"commerce": mustParseFile(t, "commerce.json"),
		"customer": mustParseFile(t, "customer.json"),
		"user":     mustParseFile(t, "user.json"),
	})
	if err != nil {
		t.Fatalf("Build: got error %v, want none", err)
	}
	if got := len(vs.Keyspaces); got != 3 {
		t.Fatalf("got %d keyspaces, want 3", got)
	}
	customer := vs.Keyspaces["customer"]
	if !customer.Sharded || customer.Name != "customer" || customer.Raw == nil {
		t.Errorf("customer keyspace: got sharded=%v name=%q raw=%v, want true, customer, non-nil", customer.Sharded, customer.Name, customer.Raw)
	}

	tbl, err := vs.FindTable("customer", "customer")
	if err != nil {
		t.Fatalf("FindTable(customer, customer): %v", err)
	}
	if tbl.Name != "customer" || tbl.Keyspace != "customer" || len(tbl.ColumnVindexes) != 1 {
		t.Fatalf("FindTable(customer, customer): got %+v, want one column vindex", tbl)
	}
	cv := tbl.ColumnVindexes[0]
	if cv.Name != "hash" || !reflect.DeepEqual(cv.Columns, []string{"customer_id"}) || cv.Vindex == nil || cv.Vindex.Type() != "hash" {
		t.Errorf("primary vindex: got %+v, want hash on customer_id", cv)
	}
	if tbl.Sequence == nil || tbl.Sequence.Keyspace != "commerce" || tbl.Sequence.Name != "customer_seq" {
		t.Errorf("customer sequence: got %+v, want commerce.customer_seq", tbl.Sequence)
	}
	corder, _ := vs.FindTable("customer", "corder")
	if corder.Sequence == nil || corder.Sequence.Name != "order_seq" {
		t.Errorf("corder sequence: got %+v, want commerce.order_seq", corder.Sequence)
	}

	user, _ := vs.FindTable("user", "user")
	if got := len(user.ColumnVindexes); got != 2 || user.ColumnVindexes[1].Columns[0] != "name" {
		t.Errorf("user column vindexes: got %d, want 2 with name second", got)
	}

	// Unsharded keyspaces route undeclared tables.
	if tbl, err := vs.FindTable("commerce", "anything"); err != nil || tbl.Keyspace != "commerce" || tbl.Name != "anything" {
		t.Errorf("FindTable(commerce, anything): got %+v, %v, want an unsharded table", tbl, err)
	}
	// Unqualified lookup.
	if tbl, err := vs.FindTable("", "corder"); err != nil || tbl.Keyspace != "customer" {
		t.Errorf("FindTable(\"\", corder): got %+v, %v, want customer.corder", tbl, err)
	}

	lookups := []struct {
		ks, table string
		want      error
	}{
		{"customer", "nope", ErrTableNotFound},
		{"customer", "Customer", ErrTableNotFound}, // names match exactly
		{"nope", "customer", ErrKeyspaceNotFound},
		{"", "nope", ErrTableNotFound},
		{"", "zip_detail", ErrAmbiguousTable},
	}
	for _, l := range lookups {
		if _, err := vs.FindTable(l.ks, l.table); !errors.Is(err, l.want) {
			t.Errorf("FindTable(%q, %q): got error %v, want %v", l.ks, l.table, err, l.want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	commerce := `{"tables": {"customer_seq": {"type": "sequence"}, "product": {}}}`
	seqUser := func(seq string) string {
		return `{"sharded": true, "vindexes": {"h": {"type": "hash"}}, "tables": {"c": {
			"column_vindexes": [{"column": "id", "name": "h"}],
			"auto_increment": {"column": "id", "sequence": "` + seq + `"}}}}`
	}
	lookupUser := func(table string) string {
		return `{"sharded": true, "vindexes": {"h": {"type": "hash"},
			"e": {"type": "lookup_unique", "owner": "u", "params": {"table": "` + table + `", "from": "email", "to": "ksid"}}},
			"tables": {"u": {"column_vindexes": [{"column": "id", "name": "h"}, {"column": "email", "name": "e"}]}}}`
	}
	cases := []struct {
		name string
		kss  map[string]string
		want string
	}{
		{"missing sequence", map[string]string{"commerce": commerce, "customer": seqUser("nope_seq")},
			`keyspace "customer" table "c" auto_increment: sequence "nope_seq" is not a sequence table of any keyspace`},
		{"sequence in unknown keyspace", map[string]string{"customer": seqUser("global.customer_seq")},
			`sequence "global.customer_seq" names unknown keyspace "global"`},
		{"qualified sequence not a table", map[string]string{"commerce": commerce, "customer": seqUser("commerce.nope")},
			`sequence "commerce.nope" is not a table of keyspace "commerce"`},
		{"qualified sequence of wrong type", map[string]string{"commerce": commerce, "customer": seqUser("commerce.product")},
			`sequence "commerce.product" is not a sequence table`},
		{"ambiguous sequence", map[string]string{"commerce": commerce, "global": commerce, "customer": seqUser("customer_seq")},
			`sequence "customer_seq" is in keyspaces commerce, global`},
		{"reference source keyspace", map[string]string{"ks": `{"tables": {"r": {"type": "reference", "source": "nope.r"}}}`},
			`reference table "r": source "nope.r" names unknown keyspace "nope"`},
		{"lookup keyspace", map[string]string{"ks": lookupUser("nope.email_idx")},
			`lookup table "nope.email_idx" names unknown keyspace "nope"`},
		{"lookup table in sharded keyspace undeclared", map[string]string{"ks": lookupUser("email_idx")},
			`lookup table "email_idx" is not a table of sharded keyspace "ks"`},
		{"lookup table sharded by another column", map[string]string{"ks": lookupUser("ks.u")},
			`lookup table "ks.u" in sharded keyspace "ks" must have its primary vindex on column "email"`},
		{"invalid keyspace", map[string]string{"bad": `{"sharded": true, "tables": {"t": {}}}`},
			`keyspace "bad": invalid vschema: sharded table "t" has no primary vindex`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kss := make(map[string]*Keyspace)
			for name, s := range c.kss {
				var k Keyspace
				if err := json.Unmarshal([]byte(s), &k); err != nil {
					t.Fatal(err)
				}
				kss[name] = &k
			}
			_, err := Build(kss)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build(%v): got error %v, want one containing %q", c.kss, err, c.want)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("Build(%v): got error %v, want one wrapping ErrInvalid", c.kss, err)
			}
		})
	}
}
