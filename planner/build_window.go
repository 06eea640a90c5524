package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// Window functions over a scatter, computed at the gateway: the shards
// return every row the WHERE selects with the columns the select list,
// the windows' PARTITION BY / ORDER BY and arguments, and the outer ORDER
// BY need (and each window function as written, whose shard-local value
// is replaced but whose field is MariaDB's type for it); engine.Window
// orders and computes; then MemorySort and Limit apply the outer ORDER BY
// and LIMIT.

// erWrongWindowSpecName is MariaDB's ER_WRONG_WINDOW_SPEC_NAME (go-mysql
// has no constant for it).
const erWrongWindowSpecName = 4004

// windowPlan collects the hidden columns of the shard query as it is built.
type windowPlan struct {
	sel     *ast.SelectStmt
	visible int // select-list entries the client wrote
	starAt  int // position of a *, or -1
	hidden  []*ast.SelectField
	byText  map[string]hiddenRef // hidden columns by their SQL, pushed once
	specs   map[string]*ast.WindowSpec
	// grouped: the windows read the groups of a GROUP BY or aggregate
	// query, merged at the gateway first.
	grouped bool
}

// hiddenRef is a column reference resolved once every hidden column is
// known: a visible position (>= 0) or hidden column h (encoded -(1+h)).
type hiddenRef = int

func (w *windowPlan) addHidden(e ast.ExprNode) hiddenRef {
	text, err := restore(e)
	if err == nil {
		if r, ok := w.byText[text]; ok {
			return r
		}
	}
	w.hidden = append(w.hidden, &ast.SelectField{Expr: e})
	if err == nil {
		w.byText[text] = -len(w.hidden)
	}
	return -len(w.hidden)
}

func (w *windowPlan) addWeight(e ast.ExprNode) hiddenRef {
	if w.grouped && findNode(e, isAggregate) {
		// An aggregate's value is a number (a character MIN/MAX is
		// refused when the rows arrive: no weight to order it by).
		return engine.NoColumn
	}
	return w.addHidden(&ast.FuncCallExpr{FnName: ast.NewCIStr("weight_string"), Args: []ast.ExprNode{e}})
}

// at resolves a reference: hidden columns follow the select list, and are
// counted from the end when a * makes the list's width unknown; a visible
// column after the * likewise.
func (w *windowPlan) at(r hiddenRef) int {
	if r == engine.NoColumn {
		return r
	}
	n := len(w.hidden)
	if r < 0 {
		h := -r - 1
		if w.starAt >= 0 {
			return -(n - h)
		}
		return w.visible + h
	}
	if w.starAt >= 0 && r > w.starAt {
		return -(w.visible - r + n)
	}
	return r
}

// windowSelect plans a single-table SELECT with window functions that runs
// on several shards, or (src nil) one over a join evaluated at the gateway.
func (b *builder) windowSelect(sel *ast.SelectStmt, vr vindexRoute, src *source) (engine.Primitive, error) {
	distinct := sel.Distinct || (sel.SelectStmtOpts != nil && sel.SelectStmtOpts.Distinct)
	grouped := sel.GroupBy != nil || sel.Having != nil || findOwn(sel.Fields, isAggregate) ||
		(sel.OrderBy != nil && findOwn(sel.OrderBy, isAggregate))
	if distinct && grouped {
		return nil, unsupported("window functions over DISTINCT groups across shards")
	}
	if err := keepFieldNames(sel); err != nil {
		return nil, err
	}
	w := &windowPlan{sel: sel, visible: len(sel.Fields.Fields), starAt: -1, grouped: grouped,
		byText: map[string]hiddenRef{}, specs: map[string]*ast.WindowSpec{}}
	for i := range sel.WindowSpecs {
		spec := &sel.WindowSpecs[i]
		w.specs[strings.ToLower(spec.Name.O)] = spec
	}
	type pendingFunc struct {
		fn    engine.WindowFunc
		parts []windowKeyRef
		order []windowKeyRef
		arg   hiddenRef
		argW  hiddenRef
		def   hiddenRef
		defW  hiddenRef
	}
	var funcs []pendingFunc
	// plan reads one window function whose value goes to column col.
	plan := func(wf *ast.WindowFuncExpr, col hiddenRef) (pendingFunc, error) {
		fn, err := w.function(wf)
		if err != nil {
			return pendingFunc{}, err
		}
		spec, err := w.resolveSpec(&wf.Spec, 0)
		if err != nil {
			return pendingFunc{}, err
		}
		pf := pendingFunc{fn: fn, arg: engine.NoColumn, argW: engine.NoColumn, def: engine.NoColumn, defW: engine.NoColumn}
		pf.fn.Col = col
		if pf.fn.Frame, err = w.frame(fn.Kind, spec); err != nil {
			return pendingFunc{}, err
		}
		if len(wf.Args) > 0 && fn.Kind != engine.WinCountStar && fn.Kind != engine.WinNtile {
			pf.arg = w.addHidden(wf.Args[0])
			switch fn.Kind {
			case engine.WinMin, engine.WinMax, engine.WinFirstValue, engine.WinLastValue,
				engine.WinNthValue, engine.WinLag, engine.WinLead:
				pf.argW = w.addWeight(wf.Args[0])
			}
		}
		if (fn.Kind == engine.WinLag || fn.Kind == engine.WinLead) && len(wf.Args) > 2 {
			pf.def = w.addHidden(wf.Args[2])
			pf.defW = w.addWeight(wf.Args[2])
		}
		if spec.PartitionBy != nil {
			for _, it := range spec.PartitionBy.Items {
				pf.parts = append(pf.parts, windowKeyRef{col: w.addHidden(it.Expr), weight: w.addWeight(it.Expr)})
			}
		}
		if spec.OrderBy != nil {
			for _, it := range spec.OrderBy.Items {
				pf.order = append(pf.order, windowKeyRef{col: w.addHidden(it.Expr), weight: w.addWeight(it.Expr), desc: it.Desc})
			}
		}
		return pf, nil
	}
	planInto := func(wf *ast.WindowFuncExpr, col hiddenRef) error {
		pf, err := plan(wf, col)
		if err == nil {
			funcs = append(funcs, pf)
		}
		return err
	}
	var exprs []*windowExpr
	computedAt := map[int]bool{} // select-list positions of expressions of windows
	windowAt := map[int]int{}    // select-list position -> index in funcs
	for i, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			if w.starAt < 0 {
				w.starAt = i
			}
			continue
		}
		wf, ok := unparen(f.Expr).(*ast.WindowFuncExpr)
		if !ok {
			if findNode(f.Expr, isWindowFunc) {
				we, err := w.planWindowExpr(b, f.Expr, i, planInto)
				if err != nil {
					return nil, err
				}
				exprs = append(exprs, we)
				computedAt[i] = true
			}
			continue
		}
		pf, err := plan(wf, i)
		if err != nil {
			return nil, err
		}
		windowAt[i] = len(funcs)
		funcs = append(funcs, pf)
	}
	var outer []windowKeyRef
	if sel.OrderBy != nil {
		for _, it := range sel.OrderBy.Items {
			if wf, ok := unparen(it.Expr).(*ast.WindowFuncExpr); ok {
				// ORDER BY a window function: computed into a hidden column
				// (the shards' own value of it gives its type; over groups,
				// the type probe's).
				pf, err := plan(wf, w.addHidden(wf))
				if err != nil {
					return nil, err
				}
				funcs = append(funcs, pf)
				outer = append(outer, windowKeyRef{col: pf.fn.Col, weight: pf.argW, desc: it.Desc})
				continue
			}
			if !grouped && findNode(it.Expr, isWindowFunc) && matchAlias(sel.Fields.Fields[:w.visible], it.Expr) < 0 {
				// An expression of window functions: computed into a
				// hidden column, ordered as a number.
				ref := w.addHidden(it.Expr)
				we, err := w.planWindowExpr(b, it.Expr, ref, planInto)
				if err != nil {
					return nil, err
				}
				exprs = append(exprs, we)
				outer = append(outer, windowKeyRef{col: ref, weight: engine.NoColumn, desc: it.Desc})
				continue
			}
			k, skip, err := w.outerKey(it, func(i int) (windowKeyRef, bool) {
				if computedAt[i] {
					// Ordered as a number: a weight_string from the shards
					// would be of their own value.
					return windowKeyRef{col: i, weight: engine.NoColumn, desc: it.Desc}, true
				}
				j, ok := windowAt[i]
				if !ok {
					return windowKeyRef{}, false
				}
				return windowKeyRef{col: i, weight: funcs[j].argW, desc: it.Desc}, true
			})
			if err != nil {
				return nil, err
			}
			if !skip {
				outer = append(outer, k)
			}
		}
	}
	var lim *engine.LimitSpec
	if sel.Limit != nil {
		l, err := limitOf(sel.Limit)
		if err != nil {
			return nil, err
		}
		lim = l
	}
	sel.OrderBy, sel.Limit = nil, nil
	var distinctWeights []hiddenRef
	if distinct {
		if w.starAt >= 0 || len(exprs) > 0 {
			return nil, unsupported("window functions over DISTINCT rows with * or window expressions across shards")
		}
		// Rows are the same by every visible column, a character one by
		// its weight_string (a window function's result by the weight
		// the engine writes for it; a number needs none).
		for i, f := range sel.Fields.Fields[:w.visible] {
			if j, ok := windowAt[i]; ok {
				distinctWeights = append(distinctWeights, funcs[j].argW)
				continue
			}
			distinctWeights = append(distinctWeights, w.addWeight(f.Expr))
		}
		// DISTINCT applies to the rows the windows computed, at the
		// gateway: the shards send every row.
		sel.Distinct = false
		if sel.SelectStmtOpts != nil {
			sel.SelectStmtOpts.Distinct = false
		}
	}

	win := &engine.Window{}
	for _, we := range exprs {
		c, err := we.compile(w)
		if err != nil {
			return nil, err
		}
		win.Computed = append(win.Computed, c)
	}
	var input engine.Primitive
	// Columns the gateway writes over groups or joined rows: NULL in the
	// input's query, typed by the probe.
	written := map[int]bool{}
	for i := range windowAt {
		written[i] = true
	}
	for i := range computedAt {
		written[i] = true
	}
	var err error
	switch {
	case src == nil:
		// Over a gateway join (build_window_join.go).
		if grouped {
			return nil, unsupported("window functions over groups of a join across shards")
		}
		if input, win.TypeProbe, err = b.joinedWindowInput(w, written); err != nil {
			return nil, err
		}
	case grouped:
		if input, win.TypeProbe, err = b.groupedWindowInput(w, written, vr, src); err != nil {
			return nil, err
		}
	}
	for _, pf := range funcs {
		fn := pf.fn
		fn.Col = w.at(fn.Col)
		fn.Arg, fn.ArgWeight = w.at(pf.arg), w.at(pf.argW)
		fn.Default, fn.DefaultWeight = w.at(pf.def), w.at(pf.defW)
		fn.Partition = w.keys(pf.parts)
		fn.Order = w.keys(pf.order)
		win.Funcs = append(win.Funcs, fn)
	}
	if input == nil {
		sel.Fields.Fields = append(sel.Fields.Fields, w.hidden...)
		vr.cutInList()
		q, err := render(sel)
		if err != nil {
			return nil, err
		}
		input = &engine.Route{Routing: vr.routing(src), Query: q}
	}
	win.Input = input
	var top engine.Primitive = win
	if distinct {
		c := &engine.Concatenate{Sources: []engine.Primitive{win}, Visible: w.visible, Hidden: len(w.hidden),
			DistinctInputs: 1, KeepHidden: len(outer) > 0}
		for _, r := range distinctWeights {
			c.Weights = append(c.Weights, w.at(r))
		}
		top = c
	}
	if len(outer) > 0 {
		top = &engine.MemorySort{Input: top, Keys: w.keys(outer), Trim: len(w.hidden)}
	} else if !distinct {
		win.Trim = len(w.hidden)
	}
	if lim != nil {
		top = &engine.Limit{Input: top, Spec: *lim}
	}
	return top, nil
}

// groupedWindowInput plans the groups a window reads: the grouped query
// with each window function replaced by NULL and the windows' columns
// added (merged by the existing GroupAggregate), and a probe reading
// nothing from one shard whose fields are MariaDB's types of the window
// functions over those groups.
func (b *builder) groupedWindowInput(w *windowPlan, windowAt map[int]bool, vr vindexRoute, src *source) (engine.Primitive, *engine.TypeProbe, error) {
	sel := w.sel
	if w.starAt >= 0 {
		return nil, nil, unsupported("* with GROUP BY, DISTINCT or aggregate functions across shards")
	}
	fields := sel.Fields.Fields[:w.visible]
	var probeFields []*ast.SelectField
	var cols []int
	for i, f := range fields {
		if _, ok := windowAt[i]; ok {
			probeFields = append(probeFields, &ast.SelectField{Expr: f.Expr, AsName: f.AsName})
			cols = append(cols, i)
		}
	}
	probe := &ast.SelectStmt{
		Kind:           ast.SelectStmtKindSelect,
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Fields:         &ast.FieldList{Fields: probeFields},
		From:           sel.From,
		Where:          &ast.BinaryOperationExpr{Op: opcode.NE, L: newValueExpr(int64(1), "", ""), R: newValueExpr(int64(1), "", "")},
		GroupBy:        sel.GroupBy,
		WindowSpecs:    sel.WindowSpecs,
	}
	tmpl, err := render(probe)
	if err != nil {
		return nil, nil, err
	}
	rt := vr.routing(src)
	rt.Opcode, rt.Values = engine.Reference, nil // any one shard
	tp := &engine.TypeProbe{Route: &engine.Route{Routing: rt, Query: tmpl}, Cols: cols}

	inner := make([]*ast.SelectField, 0, len(fields)+len(w.hidden))
	for i, f := range fields {
		if _, ok := windowAt[i]; ok {
			f = &ast.SelectField{Expr: newValueExpr(nil, "", ""), AsName: f.AsName}
		}
		inner = append(inner, f)
	}
	for h, f := range w.hidden {
		if _, ok := unparen(f.Expr).(*ast.WindowFuncExpr); ok {
			// A window function of the ORDER BY: typed by the probe too.
			probeFields = append(probeFields, &ast.SelectField{Expr: f.Expr})
			tp.Cols = append(tp.Cols, w.visible+h)
			f = &ast.SelectField{Expr: newValueExpr(nil, "", "")}
		}
		inner = append(inner, f)
	}
	if len(tp.Cols) > len(cols) {
		probe.Fields.Fields = probeFields
		if tp.Route.Query, err = render(probe); err != nil {
			return nil, nil, err
		}
	}
	sel.Fields.Fields = inner
	sel.WindowSpecs = nil
	in, err := b.groupedSelect(sel, vr, src)
	return in, tp, err
}

// windowKeyRef is an ordering key before its columns are resolved.
type windowKeyRef struct {
	col, weight hiddenRef
	desc        bool
}

func (w *windowPlan) keys(refs []windowKeyRef) []engine.OrderKey {
	keys := make([]engine.OrderKey, len(refs))
	for i, r := range refs {
		keys[i] = engine.OrderKey{Col: w.at(r.col), Weight: w.at(r.weight), Desc: r.desc}
	}
	return keys
}

// outerKey maps one item of the statement's ORDER BY to a key over the
// computed rows; windowCol gives the key of a window function's column.
func (w *windowPlan) outerKey(it *ast.ByItem, windowCol func(int) (windowKeyRef, bool)) (windowKeyRef, bool, error) {
	fields := w.sel.Fields.Fields[:w.visible]
	col := -1
	switch x := it.Expr.(type) {
	case *ast.PositionExpr:
		if x.P != nil {
			return windowKeyRef{}, false, unsupported("ORDER BY a parameter across shards")
		}
		if x.N < 1 || x.N > w.visible {
			return windowKeyRef{}, false, sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%d' in 'order clause'", x.N)
		}
		if w.starAt >= 0 && w.starAt < x.N-1 {
			return windowKeyRef{}, false, unsupported("ORDER BY a position after * across shards")
		}
		col = x.N - 1
	default:
		if v, ok := it.Expr.(*valueExpr); ok && v.val == nil {
			return windowKeyRef{}, true, nil // ORDER BY NULL: no order
		}
		if _, ok := it.Expr.(ast.ValueExpr); ok {
			return windowKeyRef{}, false, unsupported("ORDER BY a constant across shards")
		}
		if findNode(it.Expr, isWindowFunc) {
			return windowKeyRef{}, false, unsupported("window functions inside ORDER BY expressions over groups across shards (order by their alias)")
		}
		col = matchAlias(fields, it.Expr)
		if col < 0 {
			col = matchField(fields, it.Expr, w.starAt)
		}
		if col < 0 {
			return windowKeyRef{col: w.addHidden(it.Expr), weight: w.addWeight(it.Expr), desc: it.Desc}, false, nil
		}
	}
	if k, ok := windowCol(col); ok {
		return k, false, nil
	}
	return windowKeyRef{col: col, weight: w.addWeight(fields[col].Expr), desc: it.Desc}, false, nil
}

// matchAlias finds the select-list entry an unqualified ORDER BY name is
// the alias of (known wherever a * is).
func matchAlias(fields []*ast.SelectField, expr ast.ExprNode) int {
	c, ok := expr.(*ast.ColumnNameExpr)
	if !ok || c.Name.Table.O != "" {
		return -1
	}
	for i, f := range fields {
		if f.AsName.O != "" && strings.EqualFold(f.AsName.O, c.Name.Name.O) {
			return i
		}
	}
	return -1
}

// function reads a window function's kind and constant argument.
func (w *windowPlan) function(wf *ast.WindowFuncExpr) (engine.WindowFunc, error) {
	fn := engine.WindowFunc{}
	if wf.Distinct || wf.IgnoreNull || wf.FromLast {
		return fn, unsupported("DISTINCT, IGNORE NULLS and FROM LAST in window functions across shards")
	}
	name := strings.ToLower(wf.Name)
	nargs := func(lo, hi int) error {
		if len(wf.Args) < lo || len(wf.Args) > hi {
			return sqlerror.New(sqlerror.User, mysql.ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT, "Incorrect parameter count in the call to native function '%s'", wf.Name)
		}
		return nil
	}
	constant := func(i int) error {
		if len(wf.Args) <= i {
			return nil
		}
		v, ok := valueOf(wf.Args[i])
		if !ok {
			return unsupportedf("a non-constant argument of %s across shards", name)
		}
		fn.N = &v
		return nil
	}
	var err error
	switch name {
	case ast.WindowFuncRowNumber, ast.WindowFuncRank, ast.WindowFuncDenseRank, ast.WindowFuncPercentRank, ast.WindowFuncCumeDist:
		fn.Kind = map[string]engine.WindowKind{ast.WindowFuncRowNumber: engine.WinRowNumber, ast.WindowFuncRank: engine.WinRank,
			ast.WindowFuncDenseRank: engine.WinDenseRank, ast.WindowFuncPercentRank: engine.WinPercentRank,
			ast.WindowFuncCumeDist: engine.WinCumeDist}[name]
		err = nargs(0, 0)
	case ast.WindowFuncNtile:
		fn.Kind = engine.WinNtile
		if err = nargs(1, 1); err == nil {
			err = constant(0)
		}
	case ast.WindowFuncLag, ast.WindowFuncLead:
		fn.Kind = engine.WinLag
		if name == ast.WindowFuncLead {
			fn.Kind = engine.WinLead
		}
		if err = nargs(1, 3); err == nil {
			err = constant(1)
		}
	case ast.WindowFuncFirstValue, ast.WindowFuncLastValue:
		fn.Kind = engine.WinFirstValue
		if name == ast.WindowFuncLastValue {
			fn.Kind = engine.WinLastValue
		}
		err = nargs(1, 1)
	case ast.WindowFuncNthValue:
		fn.Kind = engine.WinNthValue
		if err = nargs(2, 2); err == nil {
			err = constant(1)
		}
	case ast.AggFuncCount:
		fn.Kind = engine.WinCount
		if err = nargs(1, 1); err == nil {
			if v, ok := wf.Args[0].(ast.ValueExpr); ok && v.GetValue() != nil {
				fn.Kind = engine.WinCountStar
			}
		}
	case ast.AggFuncSum, ast.AggFuncAvg, ast.AggFuncMin, ast.AggFuncMax:
		fn.Kind = map[string]engine.WindowKind{ast.AggFuncSum: engine.WinSum, ast.AggFuncAvg: engine.WinAvg,
			ast.AggFuncMin: engine.WinMin, ast.AggFuncMax: engine.WinMax}[name]
		err = nargs(1, 1)
	default:
		return fn, unsupportedf("the window function %s across shards", name)
	}
	return fn, err
}

// resolveSpec merges a window's specification with the named window it
// refers to (`over w`, `over (w order by x)`).
func (w *windowPlan) resolveSpec(spec *ast.WindowSpec, depth int) (*ast.WindowSpec, error) {
	ref := spec.Ref.O
	if spec.OnlyAlias {
		ref = spec.Name.O
	}
	if ref == "" {
		return spec, nil
	}
	named, ok := w.specs[strings.ToLower(ref)]
	if !ok || depth > len(w.specs) {
		return nil, sqlerror.New(sqlerror.User, erWrongWindowSpecName, "Window specification with name '%s' is not defined", ref)
	}
	base, err := w.resolveSpec(named, depth+1)
	if err != nil {
		return nil, err
	}
	if spec.OnlyAlias {
		return base, nil
	}
	out := *base
	if spec.PartitionBy != nil {
		out.PartitionBy = spec.PartitionBy
	}
	if spec.OrderBy != nil {
		out.OrderBy = spec.OrderBy
	}
	if spec.Frame != nil {
		out.Frame = spec.Frame
	}
	return &out, nil
}

// frame converts a written frame: ROWS with any bounds, RANGE with
// UNBOUNDED and CURRENT ROW bounds.
func (w *windowPlan) frame(kind engine.WindowKind, spec *ast.WindowSpec) (*engine.WindowFrame, error) {
	fc := spec.Frame
	if fc == nil {
		return nil, nil
	}
	fr := &engine.WindowFrame{Rows: fc.Type == ast.Rows}
	if fc.Type != ast.Rows && fc.Type != ast.Ranges {
		return nil, unsupported("GROUPS frames across shards")
	}
	bound := func(b ast.FrameBound) (engine.FrameBound, error) {
		switch {
		case b.Type == ast.CurrentRow:
			return engine.FrameBound{Kind: engine.BoundCurrentRow}, nil
		case b.UnBounded && b.Type == ast.Preceding:
			return engine.FrameBound{Kind: engine.BoundUnboundedPreceding}, nil
		case b.UnBounded:
			return engine.FrameBound{Kind: engine.BoundUnboundedFollowing}, nil
		}
		if b.Unit != ast.TimeUnitInvalid {
			// MariaDB 10.11 has no INTERVAL bounds.
			s, _ := restore(b.Expr)
			return engine.FrameBound{}, sqlerror.New(sqlerror.User, mysql.ER_PARSE_ERROR, "%s", syntaxMessage("interval "+s, ""))
		}
		v, ok := valueOf(b.Expr)
		if !ok {
			return engine.FrameBound{}, unsupported("a window frame bound other than a number across shards")
		}
		if !fr.Rows {
			// A number of the ORDER BY key's type (engine/window_range.go).
			if ve, ok := unparen(b.Expr).(*valueExpr); ok && !isDecimalLit(ve) {
				if _, err := engine.LimitValue(v, nil); err != nil {
					return engine.FrameBound{}, err
				}
			}
		} else if v.Param < 0 {
			if _, err := engine.LimitValue(v, nil); err != nil {
				return engine.FrameBound{}, err
			}
		}
		k := engine.BoundPreceding
		if b.Type == ast.Following {
			k = engine.BoundFollowing
		}
		return engine.FrameBound{Kind: k, N: v}, nil
	}
	var err error
	if fr.Start, err = bound(fc.Extent.Start); err != nil {
		return nil, err
	}
	if fr.End, err = bound(fc.Extent.End); err != nil {
		return nil, err
	}
	return fr, nil
}

func isDecimalLit(v *valueExpr) bool {
	_, ok := v.val.(decimalLit)
	return ok
}
