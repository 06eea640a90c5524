package planner

import (
	"strconv"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
)

// Window functions inside expressions (`row_number() over w + 1`,
// `sum(x) over w / count(*) over w`, also in ORDER BY): each window
// function is computed into a hidden column like any other, then the
// gateway evaluates the expression over the row (engine.ComputedColumn,
// the evaluator of expressions over aggregates). The shards still compute
// the whole expression over their own rows in its column, so its field is
// MariaDB's type for it; the gateway replaces only the value.

// windowExpr is an expression of window functions awaiting compilation.
type windowExpr struct {
	col  hiddenRef // where its value goes: a select-list position or a hidden column
	expr ast.ExprNode
	text string // as written
	// windows maps each placeholder column name standing for a window
	// function inside expr to that function's hidden column.
	windows map[string]hiddenRef
}

// windowPlaceholder marks, in the copy of an expression that the gateway
// compiles, a window function computed into a hidden column. No column of
// a table can have this name (it starts with a NUL byte).
const windowPlaceholder = "\x00window"

// planWindowExpr plans the window functions inside e, whose value goes to
// col; plan plans one window function into its hidden column.
func (w *windowPlan) planWindowExpr(b *builder, e ast.ExprNode, col hiddenRef, plan func(*ast.WindowFuncExpr, hiddenRef) error) (*windowExpr, error) {
	if w.starAt >= 0 {
		return nil, unsupported("window functions inside expressions beside * across shards")
	}
	cp, err := cloneExpr(b, e)
	if err != nil {
		return nil, err
	}
	text, _ := restore(e)
	we := &windowExpr{col: col, text: text, windows: map[string]hiddenRef{}}
	r := &windowReplacer{w: w, we: we, plan: plan}
	n, _ := cp.Accept(r)
	if r.err != nil {
		return nil, r.err
	}
	we.expr = n.(ast.ExprNode)
	return we, nil
}

type windowReplacer struct {
	w    *windowPlan
	we   *windowExpr
	plan func(*ast.WindowFuncExpr, hiddenRef) error
	err  error
}

func (r *windowReplacer) Enter(n ast.Node) (ast.Node, bool) {
	_, ok := n.(*ast.WindowFuncExpr)
	return n, ok
}

func (r *windowReplacer) Leave(n ast.Node) (ast.Node, bool) {
	wf, ok := n.(*ast.WindowFuncExpr)
	if !ok || r.err != nil {
		return n, r.err == nil
	}
	ref := r.w.addHidden(wf)
	if err := r.plan(wf, ref); err != nil {
		r.err = err
		return n, false
	}
	name := windowPlaceholder + strconv.Itoa(len(r.we.windows))
	r.we.windows[name] = ref
	return &ast.ColumnNameExpr{Name: &ast.ColumnName{Name: ast.NewCIStr(name)}}, true
}

// compile turns the expression into the computed column; its other
// columns become hidden columns of the shard query.
func (we *windowExpr) compile(w *windowPlan) (engine.ComputedColumn, error) {
	fn, err := compileIn(we.expr, func(e ast.ExprNode) (int, error) {
		if c, ok := e.(*ast.ColumnNameExpr); ok {
			if ref, ok := we.windows[c.Name.Name.O]; ok {
				return w.at(ref), nil
			}
		}
		return w.at(w.addHidden(e)), nil
	}, "window expression")
	if err != nil {
		return engine.ComputedColumn{}, err
	}
	return engine.ComputedColumn{Col: w.at(we.col), Expr: fn, Text: we.text}, nil
}
