package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
)

// valueOf turns a literal or parameter marker into an engine.Value; ok is false
// for any other expression.
func valueOf(e ast.ExprNode) (engine.Value, bool) {
	switch x := e.(type) {
	case *paramMarker:
		return engine.Value{Param: x.index}, x.index >= 0
	case *valueExpr:
		sql, err := x.sqlText()
		if err != nil {
			return engine.Value{}, false
		}
		ev := engine.Value{Param: -1, SQL: sql}
		if x.introduced() {
			// _charset'...': the collation may differ from the column's; let
			// no vindex guess.
			return ev, true
		}
		switch v := x.val.(type) {
		case nil, int64, uint64, float64, string:
			ev.Val, ev.Mappable = v, true
		case bool:
			ev.Val, ev.Mappable = boolInt(v), true
		}
		return ev, true
	}
	return engine.Value{}, false
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
