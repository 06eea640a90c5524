package planner

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
)

// buildAnswer plans the statements the gateway answers itself or from any
// one shard: SHOW, SET, and SELECT LAST_INSERT_ID()/CONNECTION_ID(). ok is
// false for every other statement. They are planned before a USE
// `ks:shard` target sends everything to its shard, since the session's
// warnings and ids are the gateway's.
func (b *builder) buildAnswer(stmt ast.StmtNode) (engine.Primitive, bool, error) {
	switch st := stmt.(type) {
	case *ast.ShowStmt:
		p, err := b.buildShow(st)
		return p, true, err
	case *ast.SetStmt:
		p, err := b.buildSet(st)
		return p, true, err
	case *ast.SelectStmt:
		if fn, column, ok := sessionFuncSelect(st); ok {
			return &engine.SessionFunc{Func: fn, Column: column}, true, nil
		}
		if p, ok, err := b.buildSessionVarSelect(st); ok {
			return p, true, err
		}
	}
	return nil, false, nil
}

// buildShow answers keyspaces and warnings from the gateway's own state,
// table metadata from any shard of the table's keyspace (every shard has
// the same schema), and server-level SHOWs (VARIABLES, STATUS, COLLATION,
// ...) from any shard of the session's keyspace.
func (b *builder) buildShow(st *ast.ShowStmt) (engine.Primitive, error) {
	switch st.Tp {
	case ast.ShowDatabases:
		return &engine.Show{Kind: engine.ShowDatabases, Column: "Database"}, nil
	case ast.ShowWarnings:
		return &engine.Show{Kind: engine.ShowWarnings}, nil
	case ast.ShowErrors:
		return &engine.Show{Kind: engine.ShowErrors}, nil
	case ast.ShowGrants:
		// The gateway user's grants (acl), not the shard account's.
		show := &engine.Show{Kind: engine.ShowGrants}
		if st.User != nil && !st.User.CurrentUser {
			show.User = st.User.Username
		}
		return show, nil
	case ast.ShowProcessList:
		if st.Full {
			return &engine.Show{Kind: engine.ShowFullProcesslist}, nil
		}
		return &engine.Show{Kind: engine.ShowProcesslist}, nil
	}
	ks := st.DBName
	if ks == "" && st.Table != nil {
		ks = st.Table.Schema.O
	}
	if ks == "" {
		ks = b.target.Keyspace
	}
	switch st.Tp {
	case ast.ShowTables, ast.ShowCreateTable, ast.ShowColumns, ast.ShowIndex, ast.ShowTableStatus, ast.ShowCreateView, ast.ShowTriggers:
		if ks == "" {
			return nil, errNoDB()
		}
	default:
		if ks == "" {
			ks = anyKeyspace(b.vs)
		}
	}
	text, err := b.verbatim()
	if err != nil {
		return nil, err
	}
	send, err := b.sendAnyShard(ks, text)
	if err != nil {
		return nil, err
	}
	if st.Tp == ast.ShowVariables {
		if names := showVariablesGateway(st); len(names) > 0 {
			return &engine.ShowVariables{Input: send, Names: names}, nil
		}
	}
	return send, nil
}

// sendAnyShard sends query unchanged to a shard of keyspace ks: the
// session's target shard if it targets one of ks, else any serving shard.
func (b *builder) sendAnyShard(ks, query string) (*engine.Send, error) {
	k := b.vs.Keyspaces[ks]
	if k == nil {
		return nil, errBadDB(ks)
	}
	s := &engine.Send{Keyspace: ks, Sharded: k.Sharded, Query: query}
	if ks == b.target.Keyspace {
		s.Shard = b.target.Shard
	}
	return s, nil
}

// anyKeyspace picks a keyspace for statements about the server rather than
// a table: an unsharded one if there is one, so it is stable.
func anyKeyspace(vs *vschema.VSchema) string {
	var names []string
	for name := range vs.Keyspaces {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !vs.Keyspaces[name].Sharded {
			return name
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// sessionFuncSelect reports whether sel is `SELECT LAST_INSERT_ID()` or
// `SELECT CONNECTION_ID()` (engine.SessionFunc answers them), and the
// result column's name.
func sessionFuncSelect(sel *ast.SelectStmt) (fn, column string, ok bool) {
	if sel.From != nil || sel.Where != nil || sel.Fields == nil || len(sel.Fields.Fields) != 1 {
		return "", "", false
	}
	f := sel.Fields.Fields[0]
	call, isFunc := f.Expr.(*ast.FuncCallExpr)
	if !isFunc || (call.FnName.L != "last_insert_id" && call.FnName.L != "connection_id") || len(call.Args) != 0 {
		return "", "", false
	}
	column = f.AsName.O
	if column == "" {
		column = strings.TrimSpace(f.Text())
	}
	if column == "" {
		column = strings.ToUpper(call.FnName.L) + "()"
	}
	return call.FnName.L, column, true
}
