package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
)

// What a prepare answers besides the statement id: its parameter count,
// and for a SELECT the result columns, which the gateway asks a shard to
// announce as MySQL does at prepare time (Connector/J sizes its result
// metadata from them). The plan itself is built at execution, against
// the vschema of that moment.

// CountParams counts the `?` markers of a statement.
func CountParams(stmt ast.StmtNode) int {
	b := &builder{}
	b.numberParams(stmt)
	return b.nparams
}

// PrepareFields says where to ask for a prepared statement's result
// columns: a Send of sql to any shard of the statement's keyspace (the
// first keyspace a table is qualified with, else the target keyspace,
// else any keyspace), or to the target shard. Every shard has the same
// schema, so one shard's answer is the answer. It returns nil when there
// is nothing to announce (not a SELECT) or no keyspace to ask; the
// statement is then announced with no columns, and its execution reports
// any real error. The caller runs the shard's prepare itself (the
// gateway's vcursor.PrepareFields): it needs the column definitions as
// the shard sent them, which no Result carries.
func PrepareFields(stmt ast.StmtNode, sql string, vs *vschema.VSchema, target Target) *engine.Send {
	switch stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
	default:
		return nil
	}
	if vs == nil {
		return nil
	}
	b := &builder{vs: vs, target: target, sql: sql}
	ks := statementKeyspace(stmt)
	if ks == "" || vs.Keyspaces[ks] == nil {
		ks = b.serverKeyspace()
	}
	send, err := b.sendAnyShard(ks, sql)
	if err != nil {
		return nil
	}
	return send
}

// statementKeyspace is the first schema a table of the statement is
// qualified with, other than MySQL's own, or "".
func statementKeyspace(node ast.StmtNode) string {
	var f schemaFinder
	node.Accept(&f)
	return f.schema
}

type schemaFinder struct{ schema string }

func (f *schemaFinder) Enter(n ast.Node) (ast.Node, bool) {
	if t, ok := n.(*ast.TableName); ok && f.schema == "" && t.Schema.L != "" {
		switch t.Schema.L {
		case "information_schema", "mysql", "performance_schema", "sys":
		default:
			f.schema = t.Schema.O
		}
	}
	return n, f.schema != ""
}

func (f *schemaFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }
