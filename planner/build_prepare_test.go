package planner

import "testing"

func TestPrepareFieldsAsksAShardOfTheStatementsKeyspace(t *testing.T) {
	vs := loadVSchema(t)
	cases := []struct {
		sql    string
		target Target
		want   string // keyspace/shard, "" for nil
	}{
		{"select * from customer where id = ?", Target{Keyspace: "service"}, "service/"},
		{"select * from service.customer", Target{}, "service/"},
		{"select * from global.config", Target{Keyspace: "service", Shard: "80-c0"}, "global/"},
		{"select * from customer", Target{Keyspace: "service", Shard: "80-c0"}, "service/80-c0"},
		{"select * from information_schema.tables", Target{}, "global/"},
		{"select * from nope.t", Target{Keyspace: "service"}, "service/"},
		{"select 1", Target{Keyspace: "nope"}, ""},
		{"insert into customer (id) values (?)", Target{Keyspace: "service"}, ""},
	}
	for _, c := range cases {
		stmts, err := NewParser().Parse(c.sql)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if s := PrepareFields(stmts[0], c.sql, vs, c.target); s != nil {
			got = s.Keyspace + "/" + s.Shard
			if s.Query != c.sql {
				t.Errorf("%q: asks %q", c.sql, s.Query)
			}
		}
		if got != c.want {
			t.Errorf("%q (target %v): %q, want %q", c.sql, c.target, got, c.want)
		}
	}
}

func TestCountParams(t *testing.T) {
	stmts, err := NewParser().Parse("select * from t where a = ? and b in (?, ?) limit ?")
	if err != nil {
		t.Fatal(err)
	}
	if n := CountParams(stmts[0]); n != 4 {
		t.Errorf("CountParams = %d, want 4", n)
	}
}
