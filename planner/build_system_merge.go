package planner

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// Two information_schema answers no single shard has (engine's
// system_tables.go): TABLES' size columns of a sharded keyspace, summed
// over its shards (TableSizes), and SCHEMATA naming no one keyspace,
// which lists the keyspaces (KeyspaceSchemata). Each applies only to the
// plain shapes GUI tools send, where the merge is exact; any other shape
// keeps the one-shard route (docs/NOTES.md says so).

// systemMerge returns the primitive answering sel in place of the
// one-shard route r, or nil to keep r.
func (b *builder) systemMerge(sel *ast.SelectStmt, r *engine.Route) engine.Primitive {
	table, ok := singleSystemTable(sel)
	if !ok || sel.GroupBy != nil || sel.Having != nil || sel.Distinct || sel.With != nil ||
		findNode(sel, isAggregate) || findNode(sel, isWindowFunc) || hasSubquery(sel) {
		return nil
	}
	switch table {
	case "tables":
		return b.tableSizes(sel, r)
	case "schemata":
		return b.keyspaceSchemata(sel, r)
	}
	return nil
}

// singleSystemTable returns the lower-case name of sel's one FROM table
// when it is an information_schema table.
func singleSystemTable(sel *ast.SelectStmt) (string, bool) {
	if sel.From == nil || sel.From.TableRefs == nil || sel.From.TableRefs.Right != nil {
		return "", false
	}
	ts, ok := sel.From.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return "", false
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok || !strings.EqualFold(tn.Schema.O, "information_schema") {
		return "", false
	}
	return tn.Name.L, true
}

// tableSizes: TABLES of one sharded keyspace whose select list shows a
// size column (else one shard's answer is the whole answer), each size
// column a plain column of the list and named nowhere else (a WHERE or
// ORDER BY on one shard's estimate would differ per shard), with the
// table's name (or *) beside them to tell the tables apart.
func (b *builder) tableSizes(sel *ast.SelectStmt, r *engine.Route) engine.Primitive {
	ks := b.vs.Keyspaces[r.Keyspace]
	if ks == nil || !ks.Sharded || r.Opcode != engine.DBA {
		return nil
	}
	plain, named, star := 0, false, false
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			star = true
			continue
		}
		if c, ok := unparen(f.Expr).(*ast.ColumnNameExpr); ok {
			if engine.IsTableSizeColumn(c.Name.Name.O) {
				plain++
			}
			named = named || c.Name.Name.L == "table_name"
		}
	}
	if plain == 0 && !star || !named && !star {
		return nil
	}
	if mentions := countNodes(sel, func(n ast.Node) bool {
		c, ok := n.(*ast.ColumnNameExpr)
		return ok && engine.IsTableSizeColumn(c.Name.Name.O)
	}); mentions != plain {
		return nil
	}
	scatter := *r
	scatter.Opcode, scatter.Sharded = engine.Scatter, true
	return &engine.TableSizes{Input: &scatter}
}

// keyspaceSchemata: SCHEMATA naming no one keyspace, showing SCHEMA_NAME
// (or * first), with no LIMIT and no ORDER BY but on SCHEMA_NAME: every
// keyspace's shard answers, keeping its own database's row.
func (b *builder) keyspaceSchemata(sel *ast.SelectStmt, r *engine.Route) engine.Primitive {
	if b.systemQueryKeyspace(b.top) != nil || sel.Limit != nil {
		return nil
	}
	column := -1
	for i, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			if i == 0 {
				column = 1 // CATALOG_NAME, SCHEMA_NAME, ... (MariaDB and MySQL)
				break
			}
			return nil
		}
		if c, ok := unparen(f.Expr).(*ast.ColumnNameExpr); ok && c.Name.Name.L == "schema_name" {
			column = i
			break
		}
	}
	if column < 0 {
		return nil
	}
	desc := false
	if sel.OrderBy != nil {
		if len(sel.OrderBy.Items) != 1 {
			return nil
		}
		c, ok := unparen(sel.OrderBy.Items[0].Expr).(*ast.ColumnNameExpr)
		if !ok || c.Name.Name.L != "schema_name" {
			return nil
		}
		desc = sel.OrderBy.Items[0].Desc
	}
	names := make([]string, 0, len(b.vs.Keyspaces))
	for name := range b.vs.Keyspaces {
		names = append(names, name)
	}
	slices.Sort(names)
	ks := &engine.KeyspaceSchemata{Names: names, Column: column, Desc: desc}
	for _, name := range names {
		route := *r
		route.Keyspace, route.Sharded = name, b.vs.Keyspaces[name].Sharded
		ks.Routes = append(ks.Routes, &route)
	}
	return ks
}

// countNodes counts the nodes of n that match.
func countNodes(n ast.Node, match func(ast.Node) bool) int {
	v := &nodeCounter{match: match}
	n.Accept(v)
	return v.n
}

type nodeCounter struct {
	match func(ast.Node) bool
	n     int
}

func (v *nodeCounter) Enter(n ast.Node) (ast.Node, bool) {
	if v.match(n) {
		v.n++
	}
	return n, false
}

func (v *nodeCounter) Leave(n ast.Node) (ast.Node, bool) { return n, true }
