package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// valueOf turns a literal or parameter marker into an evalValue; ok is false
// for any other expression.
func valueOf(e ast.ExprNode) (evalValue, bool) {
	switch x := e.(type) {
	case *paramMarker:
		return evalValue{param: x.index}, x.index >= 0
	case *valueExpr:
		sql, err := x.sqlText()
		if err != nil {
			return evalValue{}, false
		}
		ev := evalValue{param: -1, sql: sql}
		if x.introduced() {
			// _charset'...': the collation may differ from the column's; let
			// no vindex guess.
			return ev, true
		}
		switch v := x.val.(type) {
		case nil, int64, uint64, float64, string:
			ev.val, ev.mappable = v, true
		case bool:
			ev.val, ev.mappable = boolInt(v), true
		}
		return ev, true
	}
	return evalValue{}, false
}
