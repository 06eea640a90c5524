package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/shardgate/shardgate/sqlerror"
)

// inlineCTEs replaces every reference to a common table expression of
// stmt's WITH clause by a derived table holding a copy of its query, as if
// the client had written the derived table (MySQL merges a non-recursive
// CTE the same way). A CTE read twice becomes two derived tables, each
// planned (and run) on its own. Earlier CTEs are inlined into later ones
// first, since a CTE may read those before it.
func (b *builder) inlineCTEs(with **ast.WithClause, body ast.Node) error {
	w := *with
	if w == nil {
		return nil
	}
	if w.IsRecursive {
		return errRecursive()
	}
	defs := map[string]*ast.CommonTableExpression{}
	for _, c := range w.CTEs {
		if c.IsRecursive {
			return errRecursive()
		}
		if err := b.replaceCTERefs(c.Query.Query, defs); err != nil {
			return err
		}
		defs[c.Name.L] = c
	}
	*with = nil
	return b.replaceCTERefs(body, defs)
}

// replaceCTERefs swaps table names that name a CTE of defs for a copy of
// its query.
func (b *builder) replaceCTERefs(n ast.Node, defs map[string]*ast.CommonTableExpression) error {
	if len(defs) == 0 {
		return nil
	}
	v := &cteReplacer{b: b, defs: defs}
	n.Accept(v)
	return v.err
}

type cteReplacer struct {
	b    *builder
	defs map[string]*ast.CommonTableExpression
	err  error
}

func (v *cteReplacer) Enter(n ast.Node) (ast.Node, bool) {
	if v.err != nil {
		return n, true
	}
	ts, ok := n.(*ast.TableSource)
	if !ok {
		return n, false
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok || tn.Schema.O != "" {
		return n, false
	}
	def := v.defs[tn.Name.L]
	if def == nil {
		return n, false
	}
	q, err := v.b.cloneNode(def.Query.Query)
	if err != nil {
		v.err = err
		return n, true
	}
	if len(def.ColNameList) > 0 {
		if err := renameColumns(q, def.ColNameList); err != nil {
			v.err = err
			return n, true
		}
	}
	ts.Source = q.(ast.ResultSetNode)
	if ts.AsName.O == "" {
		ts.AsName = tn.Name
	}
	// The copy is complete: its own CTE references were inlined when it
	// was defined.
	return n, true
}

func (v *cteReplacer) Leave(n ast.Node) (ast.Node, bool) { return n, v.err == nil }

// renameColumns gives a CTE's query the names of its column list
// (`WITH x(a, b) AS (...)`): the select fields of its (first) SELECT.
func renameColumns(q ast.Node, names []ast.CIStr) error {
	sel, ok := q.(*ast.SelectStmt)
	if !ok {
		u, isUnion := q.(*ast.SetOprStmt)
		if !isUnion || u.SelectList == nil || len(u.SelectList.Selects) == 0 {
			return unsupported("a column list on this common table expression across shards")
		}
		if sel, ok = u.SelectList.Selects[0].(*ast.SelectStmt); !ok {
			return unsupported("a column list on this common table expression across shards")
		}
	}
	if sel.Fields == nil {
		return unsupported("a column list on this common table expression across shards")
	}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			return unsupported("a column list on a common table expression reading * across shards")
		}
	}
	if len(sel.Fields.Fields) != len(names) {
		return sqlerror.New(sqlerror.User, mysql.ER_VIEW_WRONG_LIST, "In definition of view, derived table or common table expression, SELECT list and column list have different column counts")
	}
	for i, f := range sel.Fields.Fields {
		f.AsName = names[i]
	}
	return nil
}

// cloneFlags render a node for cloneNode: like restoreFlags, but keeping
// keyspace qualifiers, which the copy must still resolve.
const cloneFlags = format.RestoreStringSingleQuotes | format.RestoreKeyWordLowercase |
	format.RestoreNameBackQuotes | format.RestoreSpacesAroundBinaryOperation

// cloneNode is a deep copy of a statement or an expression, made by
// rendering and parsing it again (the TiDB AST has no copy); its ?
// markers keep the numbers of the original's.
func (b *builder) cloneNode(n ast.Node) (ast.Node, error) {
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(cloneFlags, &sb)); err != nil {
		return nil, errInternal("cannot copy %T: %v", n, err)
	}
	// ? markers render as template holes; the copy parses them as ?
	// again (a hole's NUL bytes appear nowhere else in rendered SQL).
	text := paramHolesToMarkers(sb.String())
	_, isExpr := n.(ast.ExprNode)
	if isExpr {
		text = "select " + text
	}
	stmts, err := NewParser().Parse(text)
	if err != nil || len(stmts) != 1 {
		return nil, errInternal("cannot copy %q: %v", text, err)
	}
	var out ast.Node = stmts[0]
	if isExpr {
		sel, ok := stmts[0].(*ast.SelectStmt)
		if !ok || sel.Fields == nil || len(sel.Fields.Fields) != 1 {
			return nil, errInternal("cannot copy expression %q", text)
		}
		out = sel.Fields.Fields[0].Expr
	}
	orig, cp := &markerCollector{}, &markerCollector{}
	n.Accept(orig)
	out.Accept(cp)
	if len(orig.markers) != len(cp.markers) {
		return nil, errInternal("copy of %q has %d parameters, not %d", text, len(cp.markers), len(orig.markers))
	}
	for i, m := range cp.markers {
		m.index, m.offset, m.order = orig.markers[i].index, orig.markers[i].offset, orig.markers[i].order
	}
	return out, nil
}

// paramHolesToMarkers replaces the template holes ? markers render as
// (engine.HoleParam: NUL p digits NUL) by ?.
func paramHolesToMarkers(s string) string {
	var sb strings.Builder
	for {
		i := strings.Index(s, "\x00p")
		if i < 0 {
			sb.WriteString(s)
			return sb.String()
		}
		j := i + 2
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+2 || j >= len(s) || s[j] != 0 {
			sb.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		sb.WriteString(s[:i])
		sb.WriteByte('?')
		s = s[j+1:]
	}
}
