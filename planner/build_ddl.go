package planner

import (
	"maps"
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
)

// ddlKeyspace finds the keyspace of a table named by DDL (which may not be
// in any vschema yet).
func (b *builder) ddlKeyspace(tn *ast.TableName) (*vschema.KeyspaceSchema, error) {
	switch {
	case tn.Schema.O != "":
		ks := b.vs.Keyspaces[tn.Schema.O]
		if ks == nil {
			if isSystemSchema(tn.Schema.O) {
				return nil, unsupportedf("DDL on system schema %s", tn.Schema.O)
			}
			return nil, errBadDB(tn.Schema.O)
		}
		return ks, nil
	case b.target.Keyspace != "":
		return b.targetKeyspace()
	}
	var found *vschema.KeyspaceSchema
	for _, n := range slices.Sorted(maps.Keys(b.vs.Keyspaces)) {
		if ks := b.vs.Keyspaces[n]; ks.Tables[tn.Name.O] != nil {
			if found != nil {
				return nil, errNoDB()
			}
			found = ks
		}
	}
	if found == nil {
		return nil, errNoDB()
	}
	return found, nil
}

func (b *builder) buildDDL(stmt ast.StmtNode) (engine.Primitive, error) {
	var tables []*ast.TableName // must be in the vschema of a sharded keyspace
	var others []*ast.TableName // same keyspace, may be missing
	var create *ast.CreateTableStmt
	switch s := stmt.(type) {
	case *ast.CreateTableStmt:
		create = s
		others = append(others, s.Table)
	case *ast.AlterTableStmt:
		tables = append(tables, s.Table)
		for _, spec := range s.Specs {
			if spec.NewTable != nil {
				others = append(others, spec.NewTable)
			}
		}
	case *ast.DropTableStmt:
		if s.IsView {
			return nil, unsupported("DROP VIEW on a sharded keyspace")
		}
		if s.IfExists {
			others = append(others, s.Tables...)
		} else {
			tables = append(tables, s.Tables...)
		}
	case *ast.CreateIndexStmt:
		tables = append(tables, s.Table)
	case *ast.DropIndexStmt:
		tables = append(tables, s.Table)
	case *ast.TruncateTableStmt:
		tables = append(tables, s.Table)
	case *ast.RenameTableStmt:
		for _, tt := range s.TableToTables {
			tables = append(tables, tt.OldTable)
			others = append(others, tt.NewTable)
		}
	}
	var ks *vschema.KeyspaceSchema
	qualified := false
	for _, tn := range append(slices.Clone(tables), others...) {
		k, err := b.ddlKeyspace(tn)
		if err != nil {
			return nil, err
		}
		if ks != nil && ks != k {
			return nil, unsupportedf("DDL across keyspaces %s and %s", ks.Name, k.Name)
		}
		ks = k
		qualified = qualified || tn.Schema.O != ""
	}
	if ks == nil {
		return nil, errNoDB()
	}
	if !ks.Sharded {
		return b.passthrough(engine.Unsharded, ks)
	}
	if b.nparams > 0 {
		return nil, unsupported("parameter markers in DDL")
	}
	for _, tn := range tables {
		if ks.Tables[tn.Name.O] == nil {
			return nil, errNoSuchTable(ks.Name, tn.Name.O)
		}
	}
	text, err := b.verbatim()
	if err != nil {
		return nil, err
	}
	ddl := &engine.DDL{Keyspace: ks.Name, Query: text}
	if create != nil {
		if create.Select != nil {
			return nil, unsupported("CREATE TABLE ... SELECT in a sharded keyspace")
		}
		if ks.Tables[create.Table.Name.O] == nil {
			if create.ReferTable != nil {
				return nil, refusedf("CREATE TABLE ... LIKE in sharded keyspace '%s' needs a vschema entry for table '%s'", ks.Name, create.Table.Name.O)
			}
			col := primaryKeyColumn(create)
			if col == "" {
				return nil, refusedf("CREATE TABLE in sharded keyspace '%s' needs a primary key or a vschema entry for table '%s'", ks.Name, create.Table.Name.O)
			}
			ddl.AutoAddTable, ddl.AutoAddColumn = create.Table.Name.O, col
		}
	}
	if qualified {
		s, err := restore(stmt)
		if err != nil {
			return nil, err
		}
		ddl.Query = s
	}
	return ddl, nil
}

// primaryKeyColumn is the first column of a CREATE TABLE's primary key.
func primaryKeyColumn(s *ast.CreateTableStmt) string {
	for _, c := range s.Constraints {
		if c.Tp == ast.ConstraintPrimaryKey && len(c.Keys) > 0 && c.Keys[0].Column != nil {
			return c.Keys[0].Column.Name.O
		}
	}
	for _, col := range s.Cols {
		for _, o := range col.Options {
			if o.Tp == ast.ColumnOptionPrimaryKey {
				return col.Name.Name.O
			}
		}
	}
	return ""
}
