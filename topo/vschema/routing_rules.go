package vschema

import (
	"fmt"
	"slices"
	"strings"
)

// RoutingRules redirect table names to the keyspace that serves them, as
// Vitess's routing rules do while MoveTables moves tables between
// keyspaces: `global.t → service.t`. They are kept beside the keyspaces'
// vschemas (one object for the whole topology) and consulted by the
// planner before the vschemas: a statement naming a table that has a
// rule is planned against the rule's keyspace.
//
// Beyond Vitess, a rule carries a canary read share: ReadPer10000 of the
// sessions (by the same per-session draw as a resharding's read switch)
// have their plain reads outside transactions sent to ReadTable instead
// of ToTable.
type RoutingRules struct {
	Rules []*RoutingRule `json:"rules,omitempty"`
}

// RoutingRule redirects one table name.
type RoutingRule struct {
	// FromTable is "keyspace.table": a statement naming the table with
	// that qualifier, or unqualified in a session whose keyspace (USE)
	// it is. A bare "table" applies to unqualified names in sessions
	// without a keyspace.
	FromTable string `json:"from_table"`
	// ToTable is the "keyspace.table" that serves the table's writes and
	// (outside the read share) its reads. Empty: no keyspace serves it
	// (it is being imported from a database shardgate doesn't manage),
	// and statements that aren't in the read share are refused.
	ToTable string `json:"to_table,omitempty"`
	// ReadTable and ReadPer10000 send a share of sessions' plain reads
	// outside transactions to ReadTable (1/10000 steps; 10000 is every
	// session).
	ReadTable    string `json:"read_table,omitempty"`
	ReadPer10000 int    `json:"read_per_10000,omitempty"`
	// Workflow names the workflow that wrote the rule.
	Workflow string `json:"workflow,omitempty"`
}

// ReadScale is the denominator of RoutingRule.ReadPer10000.
const ReadScale = 10000

// Destination is where a statement naming the rule's table goes: the
// read table when read says the statement is a plain read outside a
// transaction whose session draw is below the rule's share (draw < 0:
// never), else the rule's ToTable. It returns the keyspace and the table,
// both "" when the statement has nowhere to go.
func (r *RoutingRule) Destination(read bool, draw int) (keyspace, table string) {
	to := r.ToTable
	if read && draw >= 0 && draw < r.ReadPer10000 && r.ReadTable != "" {
		to = r.ReadTable
	}
	keyspace, table, _ = strings.Cut(to, ".")
	return keyspace, table
}

// SetRoutingRules checks rules against the compiled keyspaces and
// installs them: every from_table is unique and every to_table and
// read_table names a keyspace of v and, in a sharded one, a table its
// vschema declares. A nil rules removes them.
func (v *VSchema) SetRoutingRules(rules *RoutingRules) error {
	if rules == nil || len(rules.Rules) == 0 {
		v.RoutingRules, v.readShares = nil, nil
		return nil
	}
	out := make(map[string]*RoutingRule, len(rules.Rules))
	var problems []error
	for _, r := range rules.Rules {
		if r == nil || r.FromTable == "" || strings.Count(r.FromTable, ".") > 1 {
			problems = append(problems, fmt.Errorf("routing rule %+v: from_table must be \"keyspace.table\" or \"table\"", r))
			continue
		}
		if out[r.FromTable] != nil {
			problems = append(problems, fmt.Errorf("routing rule from %q is given twice", r.FromTable))
		}
		for _, to := range []string{r.ToTable, r.ReadTable} {
			if to == "" {
				continue
			}
			if err := v.checkRuleTarget(to); err != nil {
				problems = append(problems, fmt.Errorf("routing rule from %q: %w", r.FromTable, err))
			}
		}
		if r.ReadPer10000 < 0 || r.ReadPer10000 > ReadScale || (r.ReadPer10000 > 0 && r.ReadTable == "") {
			problems = append(problems, fmt.Errorf("routing rule from %q: read share %d needs a read_table and 0..%d", r.FromTable, r.ReadPer10000, ReadScale))
		}
		out[r.FromTable] = r
	}
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	v.RoutingRules = out
	v.readShares = nil
	for _, r := range out {
		if r.ReadPer10000 > 0 && !slices.Contains(v.readShares, r.ReadPer10000) {
			v.readShares = append(v.readShares, r.ReadPer10000)
		}
	}
	return nil
}

func (v *VSchema) checkRuleTarget(to string) error {
	ksName, table, ok := strings.Cut(to, ".")
	if !ok || ksName == "" || table == "" {
		return fmt.Errorf("%q: want \"keyspace.table\"", to)
	}
	ks := v.Keyspaces[ksName]
	if ks == nil {
		return fmt.Errorf("%q names unknown keyspace %q", to, ksName)
	}
	if ks.Sharded && ks.Tables[table] == nil {
		return fmt.Errorf("%q: sharded keyspace %q has no table %q in its vschema", to, ksName, table)
	}
	return nil
}

// RoutingRule returns the rule for a table named with keyspace (the
// qualifier, or the session's keyspace for an unqualified name; "" for
// neither), or nil.
func (v *VSchema) RoutingRule(keyspace, table string) *RoutingRule {
	if v.RoutingRules == nil {
		return nil
	}
	if keyspace == "" {
		return v.RoutingRules[table]
	}
	return v.RoutingRules[keyspace+"."+table]
}

// ReadSide sums up which side of every rule's read share a session draw
// falls on, for caching plans: two draws with the same ReadSide plan every
// statement alike. It is the number of distinct shares the draw is below
// (0 when no rule has a share, or for draw < 0).
func (v *VSchema) ReadSide(draw int) int {
	if draw < 0 || v.RoutingRules == nil {
		return 0
	}
	n := 0
	for _, share := range v.readShares {
		if share > draw {
			n++
		}
	}
	return n
}
