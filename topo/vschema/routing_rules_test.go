package vschema

import (
	"errors"
	"testing"
)

// TestSetRoutingRules: rules must name keyspaces that exist and, in a
// sharded one, a table its vschema declares; a from_table is given once.
func TestSetRoutingRules(t *testing.T) {
	vs, err := Build(map[string]*Keyspace{
		"global":  {},
		"service": {Sharded: true, Vindexes: map[string]*VindexDef{"hash": {Type: "hash"}}, Tables: map[string]*Table{"t": {ColumnVindexes: []*ColumnVindex{{Column: "id", Name: "hash"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	good := &RoutingRules{Rules: []*RoutingRule{
		{FromTable: "global.t", ToTable: "global.t", ReadTable: "service.t", ReadPer10000: 100},
		{FromTable: "service.t", ToTable: "global.t", ReadTable: "service.t", ReadPer10000: 300},
		{FromTable: "t", ToTable: "service.t"},
	}}
	if err := vs.SetRoutingRules(good); err != nil {
		t.Fatalf("good rules: %v", err)
	}
	if r := vs.RoutingRule("global", "t"); r == nil || r.ToTable != "global.t" {
		t.Errorf("RoutingRule(global, t) = %+v, want the global.t rule", r)
	}
	if r := vs.RoutingRule("", "t"); r == nil || r.ToTable != "service.t" {
		t.Errorf("RoutingRule(\"\", t) = %+v, want the bare rule", r)
	}
	for draw, want := range map[int]int{-1: 0, 50: 2, 100: 1, 299: 1, 300: 0, 9999: 0} {
		if got := vs.ReadSide(draw); got != want {
			t.Errorf("ReadSide(%d) = %d, want %d", draw, got, want)
		}
	}
	for name, rr := range map[string]*RoutingRules{
		"unknown keyspace":       {Rules: []*RoutingRule{{FromTable: "global.t", ToTable: "nope.t"}}},
		"undeclared in sharded":  {Rules: []*RoutingRule{{FromTable: "global.u", ToTable: "service.u"}}},
		"twice":                  {Rules: []*RoutingRule{{FromTable: "t", ToTable: "global.t"}, {FromTable: "t", ToTable: "service.t"}}},
		"share without a table":  {Rules: []*RoutingRule{{FromTable: "t", ToTable: "global.t", ReadPer10000: 10}}},
		"to_table not qualified": {Rules: []*RoutingRule{{FromTable: "t", ToTable: "t"}}},
	} {
		if err := vs.SetRoutingRules(rr); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}
