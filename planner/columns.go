package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/topo/vschema"
)

// Column resolution from the known schema: a table's columns come from
// the vschema (columns + column_list_authoritative) or from the schema
// tracker (applied to the compiled vschema by the topology snapshot).
// Without them the planner refuses what needs them, never guesses.

// fillInsertColumns gives a column-less INSERT (INSERT INTO t VALUES
// (...), what mariadb-dump writes) the table's columns, so that the
// primary vindex column is found and the shard query names every column
// it writes: should the table change on the shards before the tracker
// sees it, the shard refuses the statement rather than storing values in
// the wrong columns.
func fillInsertColumns(s *ast.InsertStmt, t *vschema.TableSchema, verb, vindexCol string) error {
	cols, ok := t.KnownColumns()
	if !ok {
		return refusedf("%s into sharded table '%s' without a column list needs its columns, which the gateway does not know yet (schema tracking has not read the table); list the columns, including the primary vindex column '%s'", verb, t.Name, vindexCol)
	}
	s.Columns = make([]*ast.ColumnName, len(cols))
	for i, c := range cols {
		s.Columns[i] = &ast.ColumnName{Name: ast.NewCIStr(c.Name)}
	}
	return nil
}
