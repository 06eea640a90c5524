package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
)

// colocatedSelect plans a co-located SELECT with subqueries, derived
// tables, CTEs or window functions (see colocation.go) as the single-table
// plans are: one shard when the WHERE pins one, else the statement on
// every shard it may touch with the merging on top. ok is false when the
// statement is not co-located or its top needs a merge this cannot do.
func (b *builder) colocatedSelect(sel *ast.SelectStmt, p placement) (engine.Primitive, bool, error) {
	top, insts, ok := b.colocated(sel, p)
	if !ok {
		return nil, false, nil
	}
	vr, src := bestRoute(top, insts, sel.Where)
	switch vr.opcode {
	case engine.None:
		sel.Where = &ast.BinaryOperationExpr{Op: opcode.NE, L: newValueExpr(int64(1), "", ""), R: newValueExpr(int64(1), "", "")}
		fallthrough
	case engine.EqualUnique:
		r, err := b.shardRoute(sel, vr, src)
		return r, true, err
	}
	grouped := sel.Distinct || (sel.SelectStmtOpts != nil && sel.SelectStmtOpts.Distinct) ||
		sel.GroupBy != nil || sel.Having != nil ||
		findOwn(sel.Fields, isAggregate) || (sel.OrderBy != nil && findOwn(sel.OrderBy, isAggregate))
	if grouped || top.windows {
		// The merge of groups, aggregates and windows reads the select
		// list; a subquery there, or a window beside a grouping, is more
		// than it knows.
		if grouped && top.windows {
			return nil, false, nil
		}
		if findNode(sel.Fields, isSubquery) ||
			(sel.GroupBy != nil && findNode(sel.GroupBy, isSubquery)) ||
			(sel.Having != nil && findNode(sel.Having, isSubquery)) ||
			(sel.OrderBy != nil && findNode(sel.OrderBy, isSubquery)) {
			return nil, false, nil
		}
	}
	b.localWindows = top.windows
	r, err := b.multiShardSelect(sel, vr, src)
	b.localWindows = false
	return r, true, err
}

// colocatedDML plans a co-located UPDATE or DELETE (several tables,
// subqueries, WITH) as one statement per shard. It refuses (ok false)
// when a row it changes is a reference table's (each copy would change by
// its shard's rows), a vindex column, or a table owning lookup vindexes.
func (b *builder) colocatedDML(op string, stmt ast.StmtNode, where ast.ExprNode, limit *ast.Limit, p placement) (engine.Primitive, bool, error) {
	top, insts, ok := b.colocated(stmt, p)
	if !ok {
		return nil, false, nil
	}
	targets, ok := dmlTargets(stmt, top)
	if !ok {
		return nil, false, nil
	}
	for _, t := range targets {
		ts := t.ref.table
		if ts.Type == vschema.TypeReference || len(b.ownedLookups(t)) > 0 {
			return nil, false, nil
		}
		if u, isUpdate := stmt.(*ast.UpdateStmt); isUpdate {
			for _, cv := range ts.ColumnVindexes {
				for _, c := range cv.Columns {
					if _, set := setValue(u.List, t, c); set {
						return nil, false, nil
					}
				}
			}
		}
	}
	vr, src := bestRoute(top, insts, where)
	if limit != nil && vr.opcode != engine.EqualUnique && vr.opcode != engine.None {
		return nil, false, nil
	}
	vr.cutInList()
	q, err := render(stmt)
	if err != nil {
		return nil, true, err
	}
	return &engine.DML{Route: engine.Route{Routing: vr.routing(src), Query: q}, Op: op}, true, nil
}

// dmlTargets lists the tables an UPDATE or DELETE changes; ok is false
// when a target cannot be told (an unqualified column of a join).
func dmlTargets(stmt ast.StmtNode, top *coBlock) ([]*source, bool) {
	byName := func(name string) *source {
		for _, s := range top.srcs {
			if s.table != nil && s.name == name {
				return s.table
			}
		}
		return nil
	}
	var out []*source
	switch s := stmt.(type) {
	case *ast.UpdateStmt:
		for _, a := range s.List {
			var t *source
			switch {
			case a.Column.Table.O != "":
				t = byName(a.Column.Table.O)
			case len(top.srcs) == 1:
				t = top.srcs[0].table
			}
			if t == nil {
				return nil, false
			}
			out = append(out, t)
		}
	case *ast.DeleteStmt:
		if !s.IsMultiTable {
			if len(top.srcs) != 1 || top.srcs[0].table == nil {
				return nil, false
			}
			return []*source{top.srcs[0].table}, true
		}
		if s.Tables == nil {
			return nil, false
		}
		for _, tn := range s.Tables.Tables {
			t := byName(tn.Name.O)
			if t == nil {
				return nil, false
			}
			out = append(out, t)
		}
	}
	return out, len(out) > 0
}

// bestRoute picks, among the top block's own sharded tables, the one
// whose WHERE terms narrow the shards most (all of them are tied, so any
// one routes the whole statement).
func bestRoute(top *coBlock, insts []coInstance, where ast.ExprNode) (vindexRoute, *source) {
	var cands []*source
	for _, s := range top.srcs {
		if s.inst >= 0 {
			cands = append(cands, s.table)
		}
	}
	if len(cands) == 0 {
		// Only derived tables: scatter, named after the first table in them.
		return vindexRoute{opcode: engine.Scatter}, insts[top.ownInstances()[0]].src
	}
	only := len(top.srcs) == 1
	vr, best := vindexRoute{opcode: engine.Scatter}, cands[0]
	for _, s := range cands {
		r := routeByWhere(where, s, only)
		if r.opcode == engine.None || r.opcode == engine.EqualUnique || (r.opcode == engine.IN && vr.opcode != engine.IN) {
			vr, best = r, s
			if r.opcode != engine.IN {
				break
			}
		}
	}
	return vr, best
}

// extractable reports whether the gateway's own subquery evaluation
// (extractSubqueries) takes sel: uncorrelated subqueries in WHERE only, no
// derived tables, CTEs or windows. It is preferred to sending a co-located
// statement as written because it can route the outer query to the shards
// owning the subquery's values, where the co-located one scatters.
func extractable(sel *ast.SelectStmt) bool {
	if sel.With != nil || findNode(sel, isWindowFunc) ||
		findNode(sel.Fields, isSubquery) ||
		(sel.Having != nil && findNode(sel.Having, isSubquery)) ||
		(sel.OrderBy != nil && findNode(sel.OrderBy, isSubquery)) ||
		(sel.GroupBy != nil && findNode(sel.GroupBy, isSubquery)) ||
		(sel.From != nil && sel.From.TableRefs != nil && findNode(sel.From.TableRefs, isSelectOrSubquery)) {
		return false
	}
	if sel.Where == nil {
		return true
	}
	outer := map[string]bool{}
	if sel.From != nil {
		for _, tn := range collectTables(sel.From) {
			outer[strings.ToLower(tn.Name.O)] = true
		}
		sel.From.Accept(&aliasCollector{names: outer})
	}
	v := &subqueryLister{}
	sel.Where.Accept(v)
	for _, q := range v.queries {
		if correlated(q, outer) {
			return false
		}
	}
	return true
}

// subqueryLister collects the queries of the subqueries it meets, not
// looking inside them.
type subqueryLister struct{ queries []ast.StmtNode }

func (v *subqueryLister) Enter(n ast.Node) (ast.Node, bool) {
	if sq, ok := n.(*ast.SubqueryExpr); ok {
		if q, ok := sq.Query.(ast.StmtNode); ok {
			v.queries = append(v.queries, q)
		}
		return n, true
	}
	return n, false
}

func (v *subqueryLister) Leave(n ast.Node) (ast.Node, bool) { return n, true }
