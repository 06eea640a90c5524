package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// WITH RECURSIVE across shards. A recursive CTE that reads no sharded
// table — a number series, a date range, a walk over a reference table —
// computes the same rows on every shard, like a reference table: a
// statement joining it with sharded tables is co-located (colocation.go)
// and goes to the shards as written, each joining the CTE's rows with its
// own; the gateway merges their answers as for any co-located statement.
// MariaDB's own semantics (anchor, UNION [ALL|DISTINCT] recursive part,
// column types from the anchor, cte_max_recursion_depth and its error
// 3636) are then the shards'. A CTE using a function whose value may
// differ from shard to shard (RAND, UUID, NOW, ...) is not the same
// everywhere and is refused.

// readsItself reports whether a CTE's query names the CTE (WITH RECURSIVE
// marks every CTE of the clause recursive, whether it is or not).
func readsItself(c *ast.CommonTableExpression) bool {
	self := false
	findNode(c.Query.Query, func(n ast.Node) bool {
		if t, ok := n.(*ast.TableName); ok && t.Schema.O == "" && t.Name.L == c.Name.L {
			self = true
		}
		return self
	})
	return self
}

// recursiveCTE registers in blk a recursive CTE that reads no sharded
// table, as a block with no sharded instances (the same on every shard)
// whose columns are its anchor's. ok is false for any other.
func (a *coAnalysis) recursiveCTE(blk *coBlock, c *ast.CommonTableExpression) bool {
	u, ok := c.Query.Query.(*ast.SetOprStmt)
	if !ok || u.SelectList == nil || len(u.SelectList.Selects) < 2 {
		return false
	}
	anchor, ok := u.SelectList.Selects[0].(*ast.SelectStmt)
	if !ok || anchor.Fields == nil || len(c.ColNameList) > 0 && len(c.ColNameList) != len(anchor.Fields.Fields) {
		return false
	}
	for _, t := range collectTables(c.Query.Query) {
		if t.Schema.O == "" && t.Name.L == c.Name.L {
			continue
		}
		if t.Schema.O == "" {
			if other := blk.cte(t.Name.L); other != nil {
				if len(other.ownInstances()) > 0 {
					return false
				}
				continue
			}
		}
		ref, ok := refOf(a.p, t)
		if !ok || ref.table.Type != "reference" {
			return false
		}
	}
	if findNode(c.Query.Query, differsByShard) {
		return false
	}
	blk.ctes[c.Name.L] = &coBlock{kind: coDerived, sel: anchor}
	return true
}

// differsByShard reports a function whose value one shard need not share
// with another in the same statement.
func differsByShard(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.FuncCallExpr:
		switch strings.ToLower(x.FnName.L) {
		case ast.Rand, ast.UUID, ast.UUIDShort, ast.Now, ast.Sysdate, ast.CurrentTimestamp, ast.Curdate,
			ast.CurrentDate, ast.Curtime, ast.CurrentTime, ast.LocalTime, ast.LocalTimestamp, ast.UnixTimestamp,
			ast.UTCDate, ast.UTCTime, ast.UTCTimestamp, ast.ConnectionID, ast.LastInsertId, ast.FoundRows,
			ast.RowCount, ast.Sleep, ast.Benchmark, ast.GetLock, ast.NextVal, ast.LastVal, ast.SetVal:
			return true
		}
	case *ast.VariableExpr:
		return true
	}
	return false
}

// hasInstance reports whether FROM items read a sharded table.
func hasInstance(srcs []coSource) bool {
	for _, s := range srcs {
		if s.inst >= 0 || (s.derived != nil && len(s.derived.ownInstances()) > 0) {
			return true
		}
	}
	return false
}

// errRecursive refuses a recursive CTE that is not the same on every
// shard, or that is the preserved side of an outer join with sharded
// tables.
func errRecursive() error {
	return unsupported("WITH RECURSIVE reading sharded tables, outer-joined with them or using functions whose value differs by shard (RAND, NOW, ...)")
}
