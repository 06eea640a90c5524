package vindex

import (
	"strings"
	"testing"
)

func TestNewLookup(t *testing.T) {
	params := map[string]string{"table": "global.user_email_idx", "from": "email", "to": "keyspace_id", "autocommit": "true"}
	cases := []struct {
		typ                string
		unique, consistent bool
		cost               int
	}{
		{"lookup_unique", true, false, 10},
		{"lookup", false, false, 20},
		{"consistent_lookup_unique", true, true, 10},
		{"consistent_lookup", false, true, 20},
	}
	for _, c := range cases {
		vx, err := New(c.typ, "email_idx", params)
		if err != nil {
			t.Fatalf("New(%q): %v", c.typ, err)
		}
		l, ok := vx.(*Lookup)
		if !ok {
			t.Fatalf("New(%q): got %T, want *Lookup", c.typ, vx)
		}
		if _, ok := vx.(Functional); ok {
			t.Errorf("New(%q) is Functional; a lookup needs its table", c.typ)
		}
		if l.Type() != c.typ || l.IsUnique() != c.unique || l.Consistent() != c.consistent || l.Cost() != c.cost {
			t.Errorf("New(%q): got type %q unique %v consistent %v cost %d, want %q %v %v %d",
				c.typ, l.Type(), l.IsUnique(), l.Consistent(), l.Cost(), c.typ, c.unique, c.consistent, c.cost)
		}
		if l.WriteOnly() {
			t.Errorf("New(%q): write only without write_only", c.typ)
		}
		if l.Table() != "global.user_email_idx" || l.From() != "email" || l.To() != "keyspace_id" {
			t.Errorf("New(%q): got table %q from %q to %q", c.typ, l.Table(), l.From(), l.To())
		}
	}
}

func TestNewLookupBadParams(t *testing.T) {
	cases := []struct {
		params map[string]string
		want   string
	}{
		{nil, "missing params table, from, to"},
		{map[string]string{"table": "t", "from": "a"}, "missing params to"},
		{map[string]string{"table": "t", "from": "a,b", "to": "ksid"}, "only one-column lookups"},
	}
	for _, c := range cases {
		_, err := New("lookup_unique", "idx", c.params)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(lookup_unique, %v): got %v, want an error containing %q", c.params, err, c.want)
		}
	}
}
