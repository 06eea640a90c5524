package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/topo/vschema"
)

// information_schema for GUI tools and ORMs: a keyspace is a database of
// the same name on each of its shards, so a query of the system schemas
// that names one keyspace (TABLE_SCHEMA = 'ks', SCHEMA_NAME = 'ks', ...)
// is answered by a shard of that keyspace, whatever the session's
// keyspace: it sees ks's tables, columns, indexes and routines as one
// database would show them (every shard has the same schema). Otherwise
// the query goes to a shard of the session's (or the default) keyspace,
// as before.

// schemaColumns are the information_schema columns that name a database.
var schemaColumns = map[string]bool{
	"table_schema": true, "schema_name": true, "routine_schema": true, "constraint_schema": true,
	"trigger_schema": true, "event_object_schema": true, "specific_schema": true, "event_schema": true,
	"index_schema": true, "unique_constraint_schema": true,
}

// systemQueryKeyspace returns the keyspace a system-schema query is about:
// the one keyspace its schema-name comparisons name (literals only), or
// nil when they name none, several, or one that is no keyspace.
func (b *builder) systemQueryKeyspace(n ast.Node) *vschema.KeyspaceSchema {
	v := &schemaNameCollector{}
	n.Accept(v)
	if v.params {
		// The plan for one value is not the plan for another: the
		// gateway must not cache it (a cached plan's literals are ?).
		b.noCache = true
	}
	var ks *vschema.KeyspaceSchema
	for _, name := range v.names {
		k := b.vs.Keyspaces[name]
		if k == nil || (ks != nil && ks != k) {
			return nil
		}
		ks = k
	}
	return ks
}

type schemaNameCollector struct {
	names []string
	// params: a schema name is compared with a ? (or a literal the plan
	// cache's normaliser replaced): the route depends on its value.
	params bool
}

func (v *schemaNameCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.BinaryOperationExpr:
		if x.Op != opcode.EQ {
			break
		}
		if name, ok := schemaComparison(x.L, x.R); ok {
			v.names = append(v.names, name)
		} else if name, ok := schemaComparison(x.R, x.L); ok {
			v.names = append(v.names, name)
		} else if (isSchemaColumn(x.L) && isParam(x.R)) || (isSchemaColumn(x.R) && isParam(x.L)) {
			v.params = true
		}
	case *ast.PatternInExpr:
		if x.Not || x.Sel != nil || !isSchemaColumn(x.Expr) {
			break
		}
		for _, e := range x.List {
			if s, ok := stringLiteral(e); ok {
				v.names = append(v.names, s)
			} else if isParam(e) {
				v.params = true
			}
		}
	}
	return n, false
}

func (v *schemaNameCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// schemaComparison reads `schema_column = 'name'`.
func schemaComparison(col, val ast.ExprNode) (string, bool) {
	if !isSchemaColumn(col) {
		return "", false
	}
	return stringLiteral(val)
}

func isSchemaColumn(e ast.ExprNode) bool {
	c, ok := unparen(e).(*ast.ColumnNameExpr)
	return ok && schemaColumns[strings.ToLower(c.Name.Name.O)]
}

func stringLiteral(e ast.ExprNode) (string, bool) {
	ve, ok := unparen(e).(ast.ValueExpr)
	if !ok {
		return "", false
	}
	s, ok := ve.GetValue().(string)
	return s, ok
}

func isParam(e ast.ExprNode) bool {
	_, ok := unparen(e).(*paramMarker)
	return ok
}
