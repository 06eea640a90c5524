package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Joins of more than two tables at the gateway, when all but two are
// reference tables: each reference table joins one side of the two-table
// gateway join and goes into that side's shard query, since every shard
// of the side's keyspace holds a copy (in an unsharded keyspace it is an
// ordinary table). Only inner joins: the reference table's ON terms then
// filter its side's rows as WHERE terms would.

// attached is a reference table joined into one side's query.
type attached struct {
	ts   *ast.TableSource
	name string
}

// joinTable is one table of a flattened inner join.
type joinTable struct {
	ts  *ast.TableSource
	ref tableRef
}

// flattenInnerJoin lists the tables of a tree of inner joins and their ON
// terms; ok is false for anything else (outer joins, USING, derived
// tables).
func flattenInnerJoin(n ast.ResultSetNode, tables *[]*ast.TableSource, on *[]ast.ExprNode) bool {
	switch x := n.(type) {
	case *ast.TableSource:
		if _, ok := x.Source.(*ast.TableName); !ok {
			return false
		}
		*tables = append(*tables, x)
		return true
	case *ast.Join:
		if x.Tp == ast.LeftJoin || x.Tp == ast.RightJoin || x.NaturalJoin || len(x.Using) > 0 || x.StraightJoin {
			return false
		}
		if !flattenInnerJoin(x.Left, tables, on) {
			return false
		}
		if x.Right != nil && !flattenInnerJoin(x.Right, tables, on) {
			return false
		}
		if x.On != nil {
			*on = splitAnd(x.On.Expr, *on)
		}
		return true
	}
	return false
}

// withReferenceTables rewrites a join of two tables and reference tables
// as a two-table join whose sides carry the reference tables (attach[i]
// for the two tables, in order); ok is false when the join is not of that
// shape.
func (b *builder) withReferenceTables(sel *ast.SelectStmt) (j *ast.Join, attach [2][]attached, ok bool, err error) {
	var tables []*ast.TableSource
	var on []ast.ExprNode
	if !flattenInnerJoin(sel.From.TableRefs, &tables, &on) || len(tables) < 3 {
		return nil, attach, false, nil
	}
	var mains, refs []joinTable
	for _, ts := range tables {
		ref, err := b.resolveTable(ts.Source.(*ast.TableName))
		if err != nil {
			return nil, attach, false, err
		}
		if ref.system {
			return nil, attach, false, nil
		}
		if ref.table != nil && ref.table.Type == "reference" {
			refs = append(refs, joinTable{ts, ref})
		} else {
			mains = append(mains, joinTable{ts, ref})
		}
	}
	if len(mains) != 2 {
		return nil, attach, false, nil
	}
	names := func(ts *ast.TableSource) string {
		if ts.AsName.O != "" {
			return ts.AsName.O
		}
		return ts.Source.(*ast.TableName).Name.O
	}
	// A reference table joins the main table its terms tie it to, which
	// must have a copy of it on each of its shards (same keyspace).
	terms := append(splitAnd(sel.Where, nil), on...)
	for _, r := range refs {
		rname := names(r.ts)
		side := -1
		for _, term := range terms {
			tabs := map[string]bool{}
			for _, c := range columnsOf(term, "") {
				tabs[strings.ToLower(c.col.Table.O)] = true
			}
			if !tabs[strings.ToLower(rname)] {
				continue
			}
			for i, m := range mains {
				if tabs[strings.ToLower(names(m.ts))] {
					if side >= 0 && side != i {
						return nil, attach, false, nil
					}
					side = i
				}
			}
		}
		if side < 0 || mains[side].ref.ks == nil || r.ref.ks == nil || mains[side].ref.ks.Name != r.ref.ks.Name {
			return nil, attach, false, nil
		}
		attach[side] = append(attach[side], attached{ts: r.ts, name: rname})
	}
	j = &ast.Join{Left: mains[0].ts, Right: mains[1].ts, Tp: ast.CrossJoin}
	if len(on) > 0 {
		j.On = &ast.OnCondition{Expr: andAll(on)}
	}
	return j, attach, true, nil
}

// from is the FROM clause of a side's shard query: its table and the
// reference tables joined into it.
func (s *joinSide) from() ast.ResultSetNode {
	var n ast.ResultSetNode = &ast.Join{Left: s.ts}
	for _, a := range s.attached {
		n = &ast.Join{Left: n, Right: a.ts, Tp: ast.CrossJoin}
	}
	return n
}

// owns tells whether a column qualifier names this side's table or one of
// its reference tables.
func (s *joinSide) owns(table string) bool {
	if strings.EqualFold(table, s.name) {
		return true
	}
	for _, a := range s.attached {
		if strings.EqualFold(table, a.name) {
			return true
		}
	}
	return false
}
