package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// gatewayVariables are the session variables SET changes at the gateway
// only (build_set.go): a shard would answer its own value, or 1193 for
// the ones MariaDB lacks, so the gateway answers them.
var gatewayVariables = []string{"autocommit", "max_execution_time", "replica_reads", "sql_select_limit", "transaction_mode"}

func isGatewayVariable(name string) bool {
	for _, g := range gatewayVariables {
		if strings.EqualFold(g, name) {
			return true
		}
	}
	return false
}

// buildSessionVarSelect plans a SELECT without tables that reads gateway
// variables (SELECT @@transaction_mode, @@session.autocommit, @@version):
// each such @@name becomes an argument the session fills in
// (engine.SessionVars) and keeps its text as the column name; the rest
// goes to any shard as usual. ok is false when sel reads none.
func (b *builder) buildSessionVarSelect(sel *ast.SelectStmt) (engine.Primitive, bool, error) {
	if sel.From != nil || sel.Fields == nil || sel.Kind != ast.SelectStmtKindSelect {
		return nil, false, nil
	}
	r := &gatewayVarReplacer{base: b.nparams}
	for _, f := range sel.Fields.Fields {
		if f.Expr == nil {
			continue
		}
		before := len(r.names)
		e, _ := f.Expr.Accept(r)
		if len(r.names) > before && f.AsName.O == "" {
			// MySQL names the column as written: @@transaction_mode.
			name := strings.TrimSpace(f.Text())
			if name == "" {
				name = "@@" + r.names[before]
			}
			f.AsName = ast.NewCIStr(name)
		}
		f.Expr = e.(ast.ExprNode)
	}
	if len(r.names) == 0 {
		return nil, false, nil
	}
	ks, err := b.defaultKeyspace()
	if err != nil {
		return nil, true, err
	}
	q, err := render(sel)
	if err != nil {
		return nil, true, err
	}
	route := &engine.Route{Routing: engine.Routing{Opcode: engine.Reference, Keyspace: ks.Name, Sharded: ks.Sharded}, Query: q}
	return &engine.SessionVars{Names: r.names, Base: b.nparams, Input: route}, true, nil
}

// gatewayVarReplacer swaps @@gateway_variable (session scope) for argument
// markers numbered from base, in visiting order.
type gatewayVarReplacer struct {
	base  int
	names []string
}

func (r *gatewayVarReplacer) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (r *gatewayVarReplacer) Leave(n ast.Node) (ast.Node, bool) {
	v, ok := n.(*ast.VariableExpr)
	if !ok || !v.IsSystem || v.IsGlobal || v.IsInstance || v.Value != nil || !isGatewayVariable(v.Name) {
		return n, true
	}
	r.names = append(r.names, strings.ToLower(v.Name))
	return newParamExpr(r.base + len(r.names) - 1), true
}

// showVariablesGateway lists the gateway variables a SHOW [SESSION]
// VARIABLES [LIKE 'p'] shows (none for GLOBAL, or with a WHERE, which the
// shard evaluates on its own rows).
func showVariablesGateway(st *ast.ShowStmt) []string {
	if st.GlobalScope || st.Where != nil {
		return nil
	}
	var out []string
	for _, g := range gatewayVariables {
		if st.Pattern == nil {
			out = append(out, g)
			continue
		}
		ve, ok := st.Pattern.Pattern.(ast.ValueExpr)
		if !ok {
			return nil
		}
		if pat, ok := ve.GetValue().(string); ok && likeMatch(strings.ToLower(pat), g, st.Pattern.Escape) != st.Pattern.Not {
			out = append(out, g)
		}
	}
	return out
}

// likeMatch is SQL LIKE for the ASCII names of variables: % any run, _
// one character, escape quoting the next.
func likeMatch(pat, s string, escape byte) bool {
	if escape == 0 {
		escape = '\\'
	}
	if pat == "" {
		return s == ""
	}
	switch c := pat[0]; {
	case c == '%':
		for i := 0; i <= len(s); i++ {
			if likeMatch(pat[1:], s[i:], escape) {
				return true
			}
		}
		return false
	case c == '_':
		return s != "" && likeMatch(pat[1:], s[1:], escape)
	case c == escape && len(pat) > 1:
		return s != "" && s[0] == pat[1] && likeMatch(pat[2:], s[1:], escape)
	default:
		return s != "" && s[0] == c && likeMatch(pat[1:], s[1:], escape)
	}
}
