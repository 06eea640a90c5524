package planner

import (
	"maps"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/topo/vschema"
)

// AccessKind is what a statement does to a table, as grants count it
// (package acl's read, write, ddl).
type AccessKind uint8

// The access kinds.
const (
	AccessRead AccessKind = iota + 1
	AccessWrite
	AccessDDL
)

// TableAccess is one table a statement reads, writes or changes the
// definition of, with its keyspace resolved as the planner routes it.
// The gateway checks each against the user's grants before the plan runs
// (issue 15); cached plans keep their list, so the check costs no parse.
type TableAccess struct {
	// Keyspace is the table's keyspace, or the lower-cased system schema
	// (mysql, performance_schema, sys); information_schema is left out:
	// every user may read it, as in MySQL.
	Keyspace string
	// Table is empty for a statement about the keyspace as a whole (a
	// stored routine's CALL, CREATE or DROP), which needs a keyspace-wide
	// grant.
	Table string
	Kind  AccessKind
	// Command is the MySQL command an error 1142 names ("SELECT",
	// "INSERT", "DROP", ...).
	Command string
}

// Accesses lists the tables stmt touches and how, as Build puts them in
// Plan.Access, for a statement not planned yet (a prepare's columns).
func Accesses(stmt ast.StmtNode, vs *vschema.VSchema, target Target) []TableAccess {
	if vs == nil {
		vs = &vschema.VSchema{}
	}
	b := &builder{vs: vs, target: target}
	return b.accesses(stmt)
}

// accesses lists the tables stmt touches and how. It runs before build,
// which may rewrite stmt. A table whose keyspace can't be resolved is
// left out: planning the statement fails on it anyway.
func (b *builder) accesses(stmt ast.StmtNode) []TableAccess {
	var out []TableAccess
	add := func(tables []*ast.TableName, kind AccessKind, command string) {
		for _, tn := range tables {
			ks, ok := b.accessKeyspace(tn)
			if !ok {
				continue
			}
			a := TableAccess{Keyspace: ks, Table: tn.Name.O, Kind: kind, Command: command}
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	// written are the tables a DML statement writes; every other table it
	// names is read.
	var written []*ast.TableName
	switch st := stmt.(type) {
	case *ast.InsertStmt:
		if st.Table != nil {
			written = collectTables(st.Table)
		}
		command := "INSERT"
		if st.IsReplace {
			command = "REPLACE"
		}
		add(written, AccessWrite, command)
	case *ast.UpdateStmt:
		if st.TableRefs != nil {
			written = collectTables(st.TableRefs)
		}
		add(written, AccessWrite, "UPDATE")
	case *ast.DeleteStmt:
		if st.IsMultiTable && st.Tables != nil {
			written = b.deleteTargets(st)
		} else if st.TableRefs != nil {
			written = collectTables(st.TableRefs)
		}
		add(written, AccessWrite, "DELETE")
	case *ast.LoadDataStmt:
		if st.Table != nil {
			add([]*ast.TableName{st.Table}, AccessWrite, "INSERT")
		}
		return out
	case *ast.ShowStmt:
		if st.Tp == ast.ShowTables || st.Tp == ast.ShowTableStatus {
			// A list of the keyspace's tables: Plan.ListsTables.
			return out
		}
		if st.Table != nil {
			add([]*ast.TableName{st.Table}, AccessRead, "SELECT")
		}
		return out
	case *ast.CallStmt:
		// Running a procedure may do anything its body does: a
		// keyspace-wide write grant (Table empty).
		if st.Procedure != nil {
			return b.keyspaceAccess(&ast.TableName{Schema: st.Procedure.Schema, Name: st.Procedure.FnName}, AccessWrite, "EXECUTE")
		}
		return out
	case *ast.ProcedureInfo:
		return b.keyspaceAccess(st.ProcedureName, AccessDDL, "CREATE ROUTINE")
	case *ast.DropProcedureStmt:
		return b.keyspaceAccess(st.ProcedureName, AccessDDL, "ALTER ROUTINE")
	case ast.DDLNode:
		add(collectTables(stmt), AccessDDL, ddlCommand(stmt))
		return out
	}
	var read []*ast.TableName
	for _, tn := range collectTables(stmt) {
		if !slices.Contains(written, tn) {
			read = append(read, tn)
		}
	}
	add(read, AccessRead, "SELECT")
	return out
}

// keyspaceAccess is the access of a statement about a stored routine
// named by tn: kind on the routine's whole keyspace (Table empty).
func (b *builder) keyspaceAccess(tn *ast.TableName, kind AccessKind, command string) []TableAccess {
	if tn == nil {
		return nil
	}
	ks := tn.Schema.O
	if ks == "" {
		ks = b.target.Keyspace
	}
	if ks == "" {
		return nil
	}
	return []TableAccess{{Keyspace: ks, Kind: kind, Command: command}}
}

// deleteTargets resolves DELETE t1, t2 FROM ...'s names (which may be
// aliases) to the tables of its FROM.
func (b *builder) deleteTargets(st *ast.DeleteStmt) []*ast.TableName {
	aliases := map[string]*ast.TableName{}
	var from []*ast.TableName
	if st.TableRefs != nil {
		st.TableRefs.Accept(&accessAliases{aliases: aliases})
		from = collectTables(st.TableRefs)
	}
	var out []*ast.TableName
	for _, t := range st.Tables.Tables {
		if tn := aliases[strings.ToLower(t.Name.O)]; tn != nil && t.Schema.O == "" {
			out = append(out, tn)
			continue
		}
		for _, tn := range from {
			if tn.Name.L == t.Name.L && (t.Schema.O == "" || tn.Schema.L == t.Schema.L) {
				out = append(out, tn)
			}
		}
	}
	return out
}

// accessAliases maps the aliases of a FROM clause to their tables.
type accessAliases struct{ aliases map[string]*ast.TableName }

func (v *accessAliases) Enter(n ast.Node) (ast.Node, bool) {
	if ts, ok := n.(*ast.TableSource); ok && ts.AsName.O != "" {
		if tn, ok := ts.Source.(*ast.TableName); ok {
			v.aliases[ts.AsName.L] = tn
		}
	}
	return n, false
}

func (v *accessAliases) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// ddlCommand is the command an error 1142 names for a DDL statement.
func ddlCommand(stmt ast.StmtNode) string {
	switch stmt.(type) {
	case *ast.DropTableStmt, *ast.TruncateTableStmt, *ast.DropIndexStmt:
		return "DROP"
	case *ast.AlterTableStmt, *ast.RenameTableStmt:
		return "ALTER"
	}
	return "CREATE"
}

// accessKeyspace is where grants look for tn: its qualifier, else the
// session's keyspace, else the one keyspace whose vschema has it. ok is
// false for information_schema and for a table nothing resolves.
func (b *builder) accessKeyspace(tn *ast.TableName) (string, bool) {
	switch {
	case tn.Schema.O != "":
		if strings.EqualFold(tn.Schema.O, "information_schema") {
			return "", false
		}
		if isSystemSchema(tn.Schema.O) {
			return strings.ToLower(tn.Schema.O), true
		}
		return tn.Schema.O, true
	case b.target.Keyspace != "":
		return b.target.Keyspace, true
	}
	var found string
	for _, n := range slices.Sorted(maps.Keys(b.vs.Keyspaces)) {
		if b.vs.Keyspaces[n].Tables[tn.Name.O] != nil {
			if found != "" {
				return "", false
			}
			found = n
		}
	}
	return found, found != ""
}

// listsTables is the keyspace whose tables SHOW [FULL] TABLES or SHOW
// TABLE STATUS lists (the gateway lists only those the user may read);
// empty for every other statement.
func (b *builder) listsTables(stmt ast.StmtNode) string {
	st, ok := stmt.(*ast.ShowStmt)
	if !ok || (st.Tp != ast.ShowTables && st.Tp != ast.ShowTableStatus) {
		return ""
	}
	if st.DBName != "" {
		return st.DBName
	}
	return b.target.Keyspace
}
