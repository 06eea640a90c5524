package planner

import (
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
)

// builder holds the state of one Build call.
type builder struct {
	vs      *vschema.VSchema
	target  Target
	sql     string
	nparams int
	markers []*paramMarker
	// top is the statement being planned; rewritten is set once it has
	// been changed (subqueries replaced), so its text is no longer b.sql.
	top       ast.StmtNode
	rewritten bool
	// localWindows lets multiShardSelect pass window functions that
	// partition by a vindex column of a co-located statement.
	localWindows bool
	// plainRead: the statement is a SELECT without locks, which a routing
	// rule's read share may send elsewhere; rerouted: a routing rule
	// moved one of its tables to another keyspace.
	plainRead, rerouted bool
}

// numberParams gives each ? marker its index in text order.
func (b *builder) numberParams(stmt ast.Node) {
	v := &markerCollector{}
	stmt.Accept(v)
	sort.SliceStable(v.markers, func(i, j int) bool { return v.markers[i].offset < v.markers[j].offset })
	for i, m := range v.markers {
		m.index = i
	}
	b.markers = v.markers
	b.nparams = len(v.markers)
}

type markerCollector struct{ markers []*paramMarker }

func (v *markerCollector) Enter(n ast.Node) (ast.Node, bool) {
	if m, ok := n.(*paramMarker); ok {
		v.markers = append(v.markers, m)
	}
	return n, false
}

func (v *markerCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// build dispatches on the statement type.
func (b *builder) build(stmt ast.StmtNode) (engine.Primitive, StmtType, error) {
	if p, ok, err := b.buildAnswer(stmt); ok {
		switch stmt.(type) {
		case *ast.ShowStmt:
			return p, StmtShow, err
		case *ast.SetStmt:
			return p, StmtSet, err
		}
		return p, StmtLocal, err
	}
	typ, known := stmtType(stmt)
	if !known {
		if name := sessionStatement(stmt); name != "" {
			return nil, typ, unsupported(name)
		}
	}
	if b.target.Shard != "" {
		ks, err := b.targetKeyspace()
		if err != nil {
			return nil, typ, err
		}
		r, err := b.passthrough(engine.ByDestination, ks)
		if err != nil {
			return nil, typ, err
		}
		r.Shard = b.target.Shard
		return r, typ, nil
	}
	switch s := stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		p, err := b.buildSelect(s)
		return p, typ, err
	case *ast.InsertStmt:
		p, err := b.buildInsert(s)
		return p, typ, err
	case *ast.UpdateStmt:
		p, err := b.buildUpdate(s)
		return p, typ, err
	case *ast.DeleteStmt:
		p, err := b.buildDelete(s)
		return p, typ, err
	case *ast.CreateTableStmt, *ast.AlterTableStmt, *ast.DropTableStmt, *ast.CreateIndexStmt,
		*ast.DropIndexStmt, *ast.TruncateTableStmt, *ast.RenameTableStmt:
		p, err := b.buildDDL(s)
		return p, typ, err
	}
	// Anything else passes through only to an unsharded target keyspace.
	if b.target.Keyspace != "" {
		ks, err := b.targetKeyspace()
		if err != nil {
			return nil, typ, err
		}
		if !ks.Sharded {
			r, err := b.passthrough(engine.Unsharded, ks)
			return r, typ, err
		}
	}
	return nil, typ, unsupported(stmtName(stmt))
}

func stmtType(stmt ast.StmtNode) (StmtType, bool) {
	switch s := stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return StmtSelect, true
	case *ast.InsertStmt:
		if s.IsReplace {
			return StmtReplace, true
		}
		return StmtInsert, true
	case *ast.UpdateStmt:
		return StmtUpdate, true
	case *ast.DeleteStmt:
		return StmtDelete, true
	case *ast.CreateTableStmt, *ast.AlterTableStmt, *ast.DropTableStmt, *ast.CreateIndexStmt,
		*ast.DropIndexStmt, *ast.TruncateTableStmt, *ast.RenameTableStmt:
		return StmtDDL, true
	case ast.DDLNode:
		return StmtDDL, false
	}
	return StmtOther, false
}

// sessionStatement names statements that change the state of a backend
// connection (or that the gateway handles itself); they never pass through.
// SET and SHOW are planned (buildAnswer) before this is asked.
func sessionStatement(stmt ast.StmtNode) string {
	switch s := stmt.(type) {
	case *ast.UseStmt:
		return "USE"
	case *ast.BeginStmt:
		return "BEGIN"
	case *ast.CommitStmt:
		return "COMMIT"
	case *ast.RollbackStmt:
		return "ROLLBACK"
	case *ast.SavepointStmt:
		return "SAVEPOINT"
	case *ast.ReleaseSavepointStmt:
		return "RELEASE SAVEPOINT"
	case *ast.LockTablesStmt:
		return "LOCK TABLES"
	case *ast.UnlockTablesStmt:
		return "UNLOCK TABLES"
	case *ast.PrepareStmt:
		return "PREPARE"
	case *ast.ExecuteStmt:
		return "EXECUTE"
	case *ast.DeallocateStmt:
		return "DEALLOCATE PREPARE"
	case *ast.ExplainStmt:
		if s.Format == "vexplain" {
			return "VEXPLAIN"
		}
		return "EXPLAIN"
	}
	return ""
}

// stmtName is a statement's kind for refusals, from its AST type:
// *ast.CreateViewStmt is "CREATE VIEW".
func stmtName(stmt ast.StmtNode) string {
	name := strings.TrimSuffix(reflect.TypeOf(stmt).Elem().Name(), "Stmt")
	var words []string
	start := 0
	for i := 1; i <= len(name); i++ {
		if i == len(name) || (name[i] >= 'A' && name[i] <= 'Z' && !(name[i-1] >= 'A' && name[i-1] <= 'Z')) {
			words = append(words, strings.ToUpper(name[start:i]))
			start = i
		}
	}
	if len(words) == 0 {
		return "this statement"
	}
	return strings.Join(words, " ")
}

// targetKeyspace is the session's keyspace, which must exist.
func (b *builder) targetKeyspace() (*vschema.KeyspaceSchema, error) {
	if b.target.Keyspace == "" {
		return nil, errNoDB()
	}
	ks := b.vs.Keyspaces[b.target.Keyspace]
	if ks == nil {
		return nil, errBadDB(b.target.Keyspace)
	}
	return ks, nil
}

// defaultKeyspace is where a statement without tables goes: the target
// keyspace, else the first unsharded keyspace by name, else the first.
func (b *builder) defaultKeyspace() (*vschema.KeyspaceSchema, error) {
	if b.target.Keyspace != "" {
		return b.targetKeyspace()
	}
	names := slices.Sorted(maps.Keys(b.vs.Keyspaces))
	for _, n := range names {
		if !b.vs.Keyspaces[n].Sharded {
			return b.vs.Keyspaces[n], nil
		}
	}
	if len(names) == 0 {
		return nil, errNoDB()
	}
	return b.vs.Keyspaces[names[0]], nil
}

// passthrough is a Route that sends the statement text unchanged.
func (b *builder) passthrough(op engine.Opcode, ks *vschema.KeyspaceSchema) (*engine.Route, error) {
	t, err := b.originalTemplate()
	if err != nil {
		return nil, err
	}
	return &engine.Route{Routing: engine.Routing{Opcode: op, Keyspace: ks.Name, Sharded: ks.Sharded}, Query: t}, nil
}

// verbatim is the statement's text for statements sent to shards as the
// client wrote them; refused (1235) when the session's
// NO_BACKSLASH_ESCAPES would make a shard read it differently.
func (b *builder) verbatim() (string, error) {
	if b.target.NoBackslashEscapes && strings.IndexByte(b.sql, '\\') >= 0 {
		return "", unsupported("this statement with a backslash under sql_mode NO_BACKSLASH_ESCAPES")
	}
	return b.sql, nil
}

// originalTemplate is the statement text with holes at its ? markers.
func (b *builder) originalTemplate() (*engine.Template, error) {
	if b.target.NoBackslashEscapes && strings.IndexByte(b.sql, '\\') >= 0 {
		// Read as NO_BACKSLASH_ESCAPES, said again for the shards.
		return render(b.top)
	}
	if b.rerouted {
		// The text may name the keyspace a routing rule redirected from.
		return render(b.top)
	}
	if b.nparams == 0 {
		return engine.TextTemplate(b.sql), nil
	}
	chunks := make([]string, 0, len(b.markers)+1)
	params := make([]int, 0, len(b.markers))
	prev := 0
	for _, m := range b.markers {
		if m.offset < prev || m.offset >= len(b.sql) || b.sql[m.offset] != '?' {
			return nil, errInternal("cannot find parameter marker %d in the statement text", m.index+1)
		}
		chunks = append(chunks, b.sql[prev:m.offset])
		params = append(params, m.index)
		prev = m.offset + 1
	}
	t := engine.ArgTemplate(append(chunks, b.sql[prev:]), params)
	return t, nil
}

// restoreFlags render shard queries: lowercase keywords, backquoted names,
// keyspace qualifiers removed (a shard's database is not named after the
// keyspace).
const restoreFlags = format.RestoreStringSingleQuotes | format.RestoreKeyWordLowercase |
	format.RestoreNameBackQuotes | format.RestoreSpacesAroundBinaryOperation | format.RestoreWithoutSchemaName

// render restores a node into a template.
func render(n ast.Node) (*engine.Template, error) {
	s, err := restore(n)
	if err != nil {
		return nil, err
	}
	return engine.CompileTemplate(s)
}

func restore(n ast.Node) (string, error) {
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(restoreFlags, &mariadbKeywords{sb: &sb})); err != nil {
		return "", errInternal("cannot render query: %v", err)
	}
	return sb.String(), nil
}

// mariadbKeywords writes what TiDB's Restore writes, except the keywords
// MariaDB 10.11 does not know: TiDB renders LOCK IN SHARE MODE (which it
// parses into the same lock type) as FOR SHARE, a syntax error on the
// shards (issue 15, finding 8). Restore writes each keyword with a
// WriteString of its own, and a string or a name's text right after its
// opening quote, so a quoted "for share" is left alone.
type mariadbKeywords struct {
	sb         *strings.Builder
	afterQuote bool // the last write was a quote: this one is quoted text
}

func (w *mariadbKeywords) WriteString(s string) (int, error) {
	quoted := w.afterQuote
	w.afterQuote = s == "'" || s == "`" || s == `"`
	if s == "for share" && !quoted {
		return w.sb.WriteString("lock in share mode")
	}
	return w.sb.WriteString(s)
}

func (w *mariadbKeywords) Write(p []byte) (int, error) {
	w.afterQuote = false
	return w.sb.Write(p)
}

// holeExpr is an expression restored as a template hole.
type holeExpr struct {
	valueExpr
	text string
}

func newHoleExpr(text string) *holeExpr {
	return &holeExpr{valueExpr: valueExpr{projOff: -1}, text: text}
}

// Restore implements ast.Node.
func (h *holeExpr) Restore(ctx *format.RestoreCtx) error {
	ctx.WritePlain(h.text)
	return nil
}

// Accept implements ast.Node: a hole is a leaf and stays itself (the
// embedded valueExpr's Accept would hand visitors the inner literal).
func (h *holeExpr) Accept(v ast.Visitor) (ast.Node, bool) {
	n, _ := v.Enter(h)
	return v.Leave(n)
}
