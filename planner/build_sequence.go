package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
)

// autoIncrementSlot records row's argument for the auto-increment column, given the
// row's expression for it (nil when the statement omitted the column), and
// returns it: a generated slot for an omitted column or a NULL/0 literal,
// the `?`'s own index for a parameter, -1 for any other explicit value.
func autoIncrementSlot(a *engine.AutoIncrement, e ast.ExprNode, row int) (int, error) {
	s := -1
	if e == nil {
		s = a.GenBase + row
	} else {
		switch x := unparen(e).(type) {
		case *paramMarker:
			s = x.index
		case *valueExpr:
			if engine.IsNullOrZero(x.val) {
				s = a.GenBase + row
			}
		}
	}
	a.Slots = append(a.Slots, s)
	return s, nil
}

// newParamExpr is a `?` the planner adds, holding argument index.
func newParamExpr(index int) *paramMarker {
	return &paramMarker{valueExpr: valueExpr{projOff: -1}, index: index}
}
