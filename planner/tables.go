package planner

import (
	"maps"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo/vschema"
)

// tableRef is a table a statement names, resolved to its keyspace.
type tableRef struct {
	node   *ast.TableName
	ks     *vschema.KeyspaceSchema // nil for system schemas
	table  *vschema.TableSchema    // nil in unsharded keyspaces without an entry
	system bool                    // information_schema, mysql, performance_schema, sys
}

func isSystemSchema(s string) bool {
	switch strings.ToLower(s) {
	case "information_schema", "mysql", "performance_schema", "sys":
		return true
	}
	return false
}

// resolveTable finds a table's keyspace: its qualifier, else the target
// keyspace, else the one keyspace whose vschema has it.
func (b *builder) resolveTable(tn *ast.TableName) (tableRef, error) {
	ref := tableRef{node: tn}
	name := tn.Name.O
	var ks *vschema.KeyspaceSchema
	switch {
	case tn.Schema.O != "":
		if isSystemSchema(tn.Schema.O) {
			ref.system = true
			return ref, nil
		}
		if ks = b.vs.Keyspaces[tn.Schema.O]; ks == nil {
			return ref, errBadDB(tn.Schema.O)
		}
	case b.target.Keyspace != "":
		var err error
		if ks, err = b.targetKeyspace(); err != nil {
			return ref, err
		}
	case b.vs.RoutingRule("", name) != nil:
		// A bare rule: an unqualified name without a session keyspace.
	default:
		var found []*vschema.KeyspaceSchema
		for _, n := range slices.Sorted(maps.Keys(b.vs.Keyspaces)) {
			if k := b.vs.Keyspaces[n]; k.Tables[name] != nil {
				found = append(found, k)
			}
		}
		if len(found) != 1 {
			return ref, errNoDB()
		}
		ks = found[0]
	}
	if rk, rt, routed, err := b.routingRule(tn, ks); routed {
		if err != nil {
			return ref, err
		}
		ks, name = rk, rt
	}
	ref.ks = ks
	ref.table = ks.Tables[name]
	if ks.Sharded && ref.table == nil {
		return ref, errNoSuchTable(ks.Name, name)
	}
	return ref, nil
}

// routingRule applies the routing rule (vschema.RoutingRules) of a table
// named with qualifier or session keyspace ks (nil: neither): routed is
// false without a rule; else the table is planned in keyspace rk as
// table rt, and the statement is rendered for the shards rather than sent
// as written (its text may name the keyspace the rule redirects from).
func (b *builder) routingRule(tn *ast.TableName, ks *vschema.KeyspaceSchema) (rk *vschema.KeyspaceSchema, rt string, routed bool, err error) {
	from := ""
	if ks != nil {
		from = ks.Name
	}
	rule := b.vs.RoutingRule(from, tn.Name.O)
	if rule == nil {
		return nil, "", false, nil
	}
	toKs, toTable := rule.Destination(b.plainRead && b.target.ReadShares, b.target.ReadDraw)
	if toKs == "" {
		return nil, "", true, sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR,
			"Table '%s' is being moved by workflow %s from a database outside shardgate; it is served here once writes are switched", tn.Name.O, rule.Workflow)
	}
	if rk = b.vs.Keyspaces[toKs]; rk == nil {
		return nil, "", true, errBadDB(toKs)
	}
	b.rerouted = true
	return rk, toTable, true, nil
}

// collectTables lists the tables a statement reads or writes, skipping
// names of its common table expressions.
func collectTables(n ast.Node) []*ast.TableName {
	v := &tableCollector{ctes: map[string]bool{}}
	n.Accept(v)
	return v.tables
}

type tableCollector struct {
	tables []*ast.TableName
	ctes   map[string]bool
}

func (v *tableCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.DeleteTableList:
		// DELETE t1, t2 FROM ...: names of tables (or aliases) of the FROM.
		return n, true
	case *ast.WithClause:
		for _, c := range x.CTEs {
			v.ctes[c.Name.L] = true
		}
	case *ast.TableName:
		if x.Schema.O == "" && v.ctes[x.Name.L] {
			return n, true
		}
		v.tables = append(v.tables, x)
	}
	return n, false
}

func (v *tableCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// placement is where the tables of a statement live.
type placement struct {
	refs     []tableRef
	ks       *vschema.KeyspaceSchema // the one keyspace of every non-system table
	system   bool                    // some table is in a system schema
	noTables bool
	cross    bool // tables of several keyspaces (place returned an error)
}

// place resolves every table of a statement and checks they share one
// keyspace.
func (b *builder) place(n ast.Node) (placement, error) {
	var p placement
	for _, tn := range collectTables(n) {
		ref, err := b.resolveTable(tn)
		if err != nil {
			return p, err
		}
		p.refs = append(p.refs, ref)
		if ref.system {
			p.system = true
			continue
		}
		if p.ks == nil {
			p.ks = ref.ks
		} else if p.ks != ref.ks {
			p.cross = true
			return p, unsupportedf("a query across keyspaces %s and %s", p.ks.Name, ref.ks.Name)
		}
	}
	p.noTables = len(p.refs) == 0
	if p.system && p.ks != nil && p.ks.Sharded {
		return p, unsupported("a query joining system schema tables with sharded tables")
	}
	return p, nil
}

// simple routes cover statements whose placement alone decides the route:
// no tables, system tables only, or one unsharded keyspace. ok is false for
// a sharded keyspace.
func (b *builder) simpleRoute(p placement) (*engine.Route, bool, error) {
	switch {
	case p.noTables:
		ks, err := b.defaultKeyspace()
		if err != nil {
			return nil, true, err
		}
		r, err := b.passthrough(engine.Reference, ks)
		return r, true, err
	case p.ks == nil: // system schemas only
		ks, err := b.defaultKeyspace()
		if err != nil {
			return nil, true, err
		}
		r, err := b.passthrough(engine.DBA, ks)
		return r, true, err
	case !p.ks.Sharded:
		r, err := b.passthrough(engine.Unsharded, p.ks)
		return r, true, err
	}
	return nil, false, nil
}
