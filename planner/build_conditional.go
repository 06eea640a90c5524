package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// compileFunc compiles the conditional functions the gateway evaluates
// over merged aggregates (COALESCE, IFNULL, IF, NULLIF); ok is false for
// any other function, which the caller refuses.
func compileFunc(x *ast.FuncCallExpr, sub func(ast.ExprNode) (engine.Expr, error)) (engine.Expr, bool, error) {
	name := strings.ToLower(x.FnName.L)
	if name == "" {
		name = strings.ToLower(x.FnName.O)
	}
	if f, ok, err := compileScalarFunc(x, name, sub); ok || err != nil {
		return f, ok, err
	}
	want := map[string]int{"coalesce": -1, "ifnull": 2, "if": 3, "nullif": 2}
	n, known := want[name]
	if !known || (n > 0 && len(x.Args) != n) || len(x.Args) == 0 {
		return nil, false, nil
	}
	args := make([]engine.Expr, len(x.Args))
	for i, a := range x.Args {
		e, err := sub(a)
		if err != nil {
			return nil, true, err
		}
		args[i] = e
	}
	switch name {
	case "coalesce", "ifnull":
		return engine.CoalesceExpr(args), true, nil
	case "if":
		return engine.IfExpr(args[0], args[1], args[2]), true, nil
	}
	return engine.NullIfExpr(args[0], args[1]), true, nil
}

// compileCase compiles CASE [operand] WHEN ... THEN ... [ELSE ...] END.
func compileCase(x *ast.CaseExpr, sub func(ast.ExprNode) (engine.Expr, error)) (engine.Expr, error) {
	var operand, els engine.Expr
	var err error
	if x.Value != nil {
		if operand, err = sub(x.Value); err != nil {
			return nil, err
		}
	}
	whens := make([]engine.CaseWhen, len(x.WhenClauses))
	for i, w := range x.WhenClauses {
		if whens[i].When, err = sub(w.Expr); err != nil {
			return nil, err
		}
		if whens[i].Then, err = sub(w.Result); err != nil {
			return nil, err
		}
	}
	if x.ElseClause != nil {
		if els, err = sub(x.ElseClause); err != nil {
			return nil, err
		}
	}
	return engine.CaseExpr(operand, whens, els), nil
}
