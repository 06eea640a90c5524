package topo

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestTabletAlias(t *testing.T) {
	cases := []struct {
		in   string
		want TabletAlias
		str  string
	}{
		{"zone1-100", TabletAlias{"zone1", 100}, "zone1-0000000100"},
		{"zone1-0000000100", TabletAlias{"zone1", 100}, "zone1-0000000100"},
		{"us-east-1-7", TabletAlias{"us-east-1", 7}, "us-east-1-0000000007"},
		{"z-4294967295", TabletAlias{"z", 4294967295}, "z-4294967295"},
	}
	for _, c := range cases {
		got, err := ParseTabletAlias(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseTabletAlias(%q): got %+v, %v, want %+v", c.in, got, err, c.want)
		}
		if s := got.String(); s != c.str {
			t.Errorf("%+v.String(): got %q, want %q", got, s, c.str)
		}
	}
	for _, in := range []string{"", "zone1", "zone1-", "-100", "zone1-x", "zone1-4294967296", "zo/ne-1"} {
		if got, err := ParseTabletAlias(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseTabletAlias(%q): got %+v, %v, want an error wrapping ErrInvalid", in, got, err)
		}
	}
}

func TestTabletAliasJSON(t *testing.T) {
	tab := Tablet{Alias: TabletAlias{"zone1", 100}, Keyspace: "ks", Shard: "-80", Type: TabletPrimary, Host: "127.0.0.1", Port: 3306}
	b, err := json.Marshal(tab)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"alias":"zone1-0000000100","keyspace":"ks","shard":"-80","type":"primary","host":"127.0.0.1","port":3306}`
	if string(b) != want {
		t.Errorf("json.Marshal(%+v):\ngot  %s\nwant %s", tab, b, want)
	}
	var back Tablet
	if err := json.Unmarshal(b, &back); err != nil || back != tab {
		t.Errorf("json.Unmarshal(%s): got %+v, %v, want %+v", b, back, err, tab)
	}
	if got := tab.Addr(); got != "127.0.0.1:3306" {
		t.Errorf("Addr(): got %q, want 127.0.0.1:3306", got)
	}
}

func TestShardJSON(t *testing.T) {
	sh := &Shard{Keyspace: "ks", Name: "40-80", PrimaryAlias: &TabletAlias{"zone1", 1}, Serving: true}
	sh.KeyRange, _ = shardKeyRange("40-80")
	b, err := json.Marshal(sh)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"keyspace":"ks","name":"40-80","key_range":"40-80","primary_alias":"zone1-0000000001","serving":true}`
	if string(b) != want {
		t.Errorf("json.Marshal(shard):\ngot  %s\nwant %s", b, want)
	}
	var back Shard
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.KeyRange.String() != "40-80" || *back.PrimaryAlias != *sh.PrimaryAlias || !back.Serving {
		t.Errorf("json.Unmarshal(%s): got %+v, want %+v", b, back, sh)
	}
}
