package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// UPDATE and DELETE of one sharded table whose WHERE has uncorrelated
// subqueries run them first and write their values into the statement,
// as a SELECT does (engine.UncorrelatedSubquery), all inside the
// statement's transaction. A subquery may read the target table itself:
// MariaDB (since 10.3) reads such a subquery whole before changing a row,
// which is what running it first does; MySQL refuses it with 1093, and a
// shard that is MySQL would too, but the gateway no longer sends it there.

// dmlSubqueries replaces the subqueries of an UPDATE's or DELETE's WHERE
// with holes and plans each; ok is false when the statement has
// subqueries elsewhere (the SET list, ORDER BY) or correlated ones.
func (b *builder) dmlSubqueries(s ast.StmtNode, src *source) ([]engine.SubqueryInput, bool, error) {
	var where ast.ExprNode
	switch x := s.(type) {
	case *ast.UpdateStmt:
		for _, a := range x.List {
			if hasSubquery(a.Expr) {
				return nil, false, nil
			}
		}
		if x.Order != nil && hasSubquery(x.Order) {
			return nil, false, nil
		}
		where = x.Where
	case *ast.DeleteStmt:
		if x.Order != nil && hasSubquery(x.Order) {
			return nil, false, nil
		}
		where = x.Where
	}
	if where == nil || !hasSubquery(where) {
		return nil, false, nil
	}
	outer := map[string]bool{strings.ToLower(src.ref.table.Name): true}
	if src.alias != "" {
		outer[strings.ToLower(src.alias)] = true
	}
	lister := &subqueryLister{}
	where.Accept(lister)
	for _, q := range lister.queries {
		if correlated(q, outer) {
			return nil, false, nil
		}
	}
	v := &subqueryExtractor{owned: map[*ast.SubqueryExpr]bool{}, next: b.nparams}
	w, _ := where.Accept(v)
	if v.err != nil {
		return nil, false, v.err
	}
	var subs []engine.SubqueryInput
	for i := range v.found {
		f := &v.found[i]
		p, err := b.buildSelect(f.query)
		if err != nil {
			return nil, false, err
		}
		f.in.Input = p
		subs = append(subs, f.in)
	}
	switch x := s.(type) {
	case *ast.UpdateStmt:
		x.Where = w.(ast.ExprNode)
	case *ast.DeleteStmt:
		x.Where = w.(ast.ExprNode)
	}
	b.rewritten = true
	return subs, true, nil
}

// withSubqueries runs subs before a DML plan built with their holes.
func (b *builder) withSubqueries(subs []engine.SubqueryInput, p engine.Primitive, err error) (engine.Primitive, error) {
	if err != nil || len(subs) == 0 {
		return p, err
	}
	return &engine.UncorrelatedSubquery{Subs: subs, Outer: p, NParams: b.nparams}, nil
}
