package planner

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo/vschema"
)

// TestRoutingRules: a table with a routing rule (movetables) is planned
// in the rule's keyspace: every name it has (qualified, or unqualified in
// the session's keyspace, or bare), reads of the sessions in the rule's
// read share on the read table, and statements rendered without the
// qualifier they were written with.
func TestRoutingRules(t *testing.T) {
	vs := loadVSchema(t)
	rule := func(from string) *vschema.RoutingRule {
		return &vschema.RoutingRule{FromTable: from, ToTable: "global.t", ReadTable: "service.t", ReadPer10000: 5000, Workflow: "mv"}
	}
	if err := vs.SetRoutingRules(&vschema.RoutingRules{Rules: []*vschema.RoutingRule{rule("global.t"), rule("service.t"), rule("t")}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sql string
		target    Target
		wantKs    string
		wantQuery string // a substring of the first shard query
	}{
		{"read in the share", "select * from t where id = 1", Target{Keyspace: "global", ReadShares: true, ReadDraw: 100}, "service", "from `t` where"},
		{"read outside the share", "select * from t where id = 1", Target{Keyspace: "global", ReadShares: true, ReadDraw: 6000}, "global", "from `t` where"},
		{"read in a transaction", "select * from t where id = 1", Target{Keyspace: "global", ReadDraw: 100}, "global", "from `t` where"},
		{"locking read", "select * from t where id = 1 for update", Target{Keyspace: "global", ReadShares: true, ReadDraw: 100}, "global", ""},
		{"write", "update t set x = 1 where id = 1", Target{Keyspace: "global", ReadShares: true, ReadDraw: 100}, "global", ""},
		{"target keyspace's name goes to the source", "select * from service.t where id = 1", Target{ReadShares: true, ReadDraw: 6000}, "global", "from `t` where"},
		{"bare name without a keyspace", "select * from t where id = 1", Target{ReadShares: true, ReadDraw: 9000}, "global", ""},
		{"no rule", "select * from user where id = 1", Target{Keyspace: "service", ReadShares: true, ReadDraw: 100}, "service", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stmts, err := NewParser().Parse(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := Build(stmts[0], tc.sql, vs, tc.target)
			if err != nil {
				t.Fatalf("%s: %v", tc.sql, err)
			}
			var r *engine.Route
			switch p := plan.Root.(type) {
			case *engine.Route:
				r = p
			case *engine.DML:
				r = &p.Route
			default:
				t.Fatalf("%s: plan root %T", tc.sql, plan.Root)
			}
			if r.Keyspace != tc.wantKs {
				t.Errorf("%s with %+v: planned in keyspace %s, want %s", tc.sql, tc.target, r.Keyspace, tc.wantKs)
			}
			if q := r.Query.String(); !strings.Contains(q, tc.wantQuery) || strings.Contains(q, "service.") {
				t.Errorf("%s: shard query %q, want it to contain %q and no qualifier", tc.sql, q, tc.wantQuery)
			}
		})
	}

	// A rule to nowhere (a table imported from outside shardgate) refuses
	// what is not in its read share, with a retryable error.
	if err := vs.SetRoutingRules(&vschema.RoutingRules{Rules: []*vschema.RoutingRule{
		{FromTable: "service.t", ReadTable: "service.t", ReadPer10000: 10000, Workflow: "import"},
	}}); err != nil {
		t.Fatal(err)
	}
	stmts, _ := NewParser().Parse("insert into t (id) values (1)")
	_, err := Build(stmts[0], "insert into t (id) values (1)", vs, Target{Keyspace: "service", ReadShares: true})
	if err == nil || sqlerror.ClassOf(err) != sqlerror.Unavailable {
		t.Errorf("a write to a table being imported: got %v, want an Unavailable error", err)
	}
	stmts, _ = NewParser().Parse("select * from t where id = 1")
	if _, err := Build(stmts[0], "select * from t where id = 1", vs, Target{Keyspace: "service", ReadShares: true}); err != nil {
		t.Errorf("a read of a table being imported whose reads are switched: %v", err)
	}
}
