package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// WindowKind is a window function the gateway computes.
type WindowKind int

// Window functions.
const (
	WinRowNumber WindowKind = iota
	WinRank
	WinDenseRank
	WinPercentRank
	WinCumeDist
	WinNtile
	WinLag
	WinLead
	WinFirstValue
	WinLastValue
	WinNthValue
	WinCountStar // COUNT(*) and COUNT(constant): rows of the frame
	WinCount
	WinSum
	WinAvg
	WinMin
	WinMax
)

var windowNames = [...]string{"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
	"lag", "lead", "first_value", "last_value", "nth_value", "count(*)", "count", "sum", "avg", "min", "max"}

func (k WindowKind) String() string { return windowNames[k] }

// BoundKind is one end of a window frame.
type BoundKind int

// Frame bounds.
const (
	BoundUnboundedPreceding BoundKind = iota
	BoundPreceding
	BoundCurrentRow
	BoundFollowing
	BoundUnboundedFollowing
)

// FrameBound is a frame end; N is the n of n PRECEDING/FOLLOWING: a row
// count (ROWS) or a difference of ORDER BY values (RANGE).
type FrameBound struct {
	Kind BoundKind
	N    Value
}

// WindowFrame is a ROWS or RANGE frame. In a RANGE frame CURRENT ROW
// means the current row's peers, and n PRECEDING/FOLLOWING are values
// (window_range.go).
type WindowFrame struct {
	Rows       bool
	Start, End FrameBound
}

// WindowFunc is one window function of the select list.
type WindowFunc struct {
	Kind WindowKind
	// Col is the function's column: the shards computed the same function
	// over their own rows, so its field is MariaDB's type for it; the value
	// is replaced by the one over every shard's rows.
	Col int
	// Arg is the argument's column and ArgWeight its weight_string column
	// (NoWeight if none). ArgWeight is rewritten to hold the weight of the
	// result, so an ORDER BY of a character result orders by collation.
	Arg, ArgWeight int
	// Default and DefaultWeight are LAG/LEAD's default (NoColumn: NULL).
	Default, DefaultWeight int
	// N is NTILE's bucket count, LAG/LEAD's offset, NTH_VALUE's position.
	N *Value
	// Partition and Order are PARTITION BY and the window's ORDER BY.
	Partition, Order []OrderKey
	// Frame is the written frame; nil is MySQL's default (RANGE BETWEEN
	// UNBOUNDED PRECEDING AND CURRENT ROW: the whole partition without
	// ORDER BY, as every row is then a peer).
	Frame *WindowFrame
}

// NoColumn marks an absent column reference.
const NoColumn = NoWeight

// Window computes window functions at the gateway over all the rows of
// its input (the shards' rows of a scatter, or any other primitive's), in
// the order of each function's PARTITION BY and ORDER BY, writes their
// values into the functions' columns, and drops the Trim hidden columns.
// The input is held whole: it counts against the gateway's row budget.
type Window struct {
	Input Primitive
	Funcs []WindowFunc
	Trim  int
	// TypeProbe, over grouped rows, gives the function columns their
	// fields (the input has placeholders there).
	TypeProbe *TypeProbe
	// Computed are expressions of the window functions' values
	// (`row_number() over w + 1`), evaluated once every function is.
	Computed []ComputedColumn
}

var _ Primitive = (*Window)(nil)

// Execute implements Primitive.
func (w *Window) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	in, err := w.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, windowInputError(err)
	}
	if w.TypeProbe != nil {
		pr, err := w.TypeProbe.Route.Execute(ctx, vc, args)
		if err != nil {
			return nil, err
		}
		if len(pr.Fields) != len(w.TypeProbe.Cols) {
			return nil, errInternal("window type probe returned %d columns, want %d", len(pr.Fields), len(w.TypeProbe.Cols))
		}
		fields := slices.Clone(in.Fields)
		for i, col := range w.TypeProbe.Cols {
			if col < len(fields) {
				fields[col] = pr.Fields[i]
			}
		}
		in = &Result{Fields: fields, Rows: in.Rows, Warnings: in.Warnings}
	}
	n := len(in.Fields)
	if n < w.Trim {
		return nil, errInternal("window: %d columns, %d hidden", n, w.Trim)
	}
	rows := make([][][]byte, len(in.Rows))
	for i, r := range in.Rows {
		rows[i] = slices.Clone(r)
	}
	type output struct {
		f               *WindowFunc
		col, weightCol  int
		values, weights [][]byte
	}
	outs := make([]output, len(w.Funcs))
	sorted := map[string][]int{}
	for i := range w.Funcs {
		f := &w.Funcs[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vals, weights, err := computeWindow(f, in.Fields, rows, args, sorted)
		if err != nil {
			return nil, err
		}
		col := resolveColumn(f.Col, n)
		if col < 0 || col >= n {
			return nil, errInternal("window column %d out of range: %d columns", f.Col, n)
		}
		wc := -1
		if f.ArgWeight != NoWeight {
			wc = resolveColumn(f.ArgWeight, n)
		}
		outs[i] = output{f: f, col: col, weightCol: wc, values: vals, weights: weights}
	}
	// Written after every function is computed: a function's weight column
	// is its argument's until then.
	for _, o := range outs {
		for r, row := range rows {
			row[o.col] = o.values[r]
			if o.weightCol >= 0 && o.weights != nil {
				row[o.weightCol] = o.weights[r]
			}
		}
	}
	if len(w.Computed) > 0 {
		ec := newEvalCtx(in.Fields, evalEnvOf(vc))
		for _, row := range rows {
			if err := computeColumns(w.Computed, row, in.Fields, ec, args); err != nil {
				return nil, err
			}
		}
	}
	keep := n - w.Trim
	for i := range rows {
		rows[i] = rows[i][:keep]
	}
	return &Result{Fields: in.Fields[:keep], Rows: rows, Warnings: in.Warnings}, nil
}

// windowInputError says which part of the statement needed the rows when
// the input passed the gateway's row budget.
func windowInputError(err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) && me.Code == mysql.ER_OUT_OF_RESOURCES {
		return sqlerror.New(sqlerror.User, mysql.ER_OUT_OF_RESOURCES,
			"Out of resources: the input of the window functions is too large: they are computed at the gateway over every row the WHERE selects on all shards, and %s", strings.TrimPrefix(me.Message, "Out of resources: "))
	}
	return err
}

// Stream implements Primitive: a window needs its whole input.
func (w *Window) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, w, vc, args, fn)
}

// Inputs implements Primitive.
func (w *Window) Inputs() []Primitive {
	if w.TypeProbe != nil {
		return []Primitive{w.Input, w.TypeProbe.Route}
	}
	return []Primitive{w.Input}
}

func (w *Window) description() Description {
	funcs := make([]string, len(w.Funcs))
	for i, f := range w.Funcs {
		funcs[i] = f.describe()
	}
	d := Description{OperatorType: "Window", Variant: "Memory", Other: map[string]any{"Functions": funcs}}
	if w.Trim > 0 {
		d.Other["HiddenColumns"] = w.Trim
	}
	if len(w.Computed) > 0 {
		var cs []string
		for _, c := range w.Computed {
			cs = append(cs, c.Text+" into "+colRef(c.Col))
		}
		d.Other["Computed"] = cs
	}
	return d
}

func (f WindowFunc) describe() string {
	var b strings.Builder
	b.WriteString(f.Kind.String())
	var args []string
	if f.Arg != NoColumn {
		args = append(args, colRef(f.Arg))
	}
	if f.N != nil {
		args = append(args, f.N.String())
	}
	if f.Default != NoColumn {
		args = append(args, colRef(f.Default))
	}
	if f.Kind != WinCountStar {
		fmt.Fprintf(&b, "(%s)", strings.Join(args, ", "))
	}
	fmt.Fprintf(&b, " into %s over (", colRef(f.Col))
	var parts []string
	if len(f.Partition) > 0 {
		parts = append(parts, "partition by "+strings.Join(describeKeys(f.Partition), ", "))
	}
	if len(f.Order) > 0 {
		parts = append(parts, "order by "+strings.Join(describeKeys(f.Order), ", "))
	}
	if f.Frame != nil {
		parts = append(parts, f.Frame.describe())
	}
	b.WriteString(strings.Join(parts, " "))
	b.WriteString(")")
	return b.String()
}

func (fr WindowFrame) describe() string {
	kind := "range"
	if fr.Rows {
		kind = "rows"
	}
	return kind + " between " + fr.Start.describe() + " and " + fr.End.describe()
}

func (fb FrameBound) describe() string {
	switch fb.Kind {
	case BoundUnboundedPreceding:
		return "unbounded preceding"
	case BoundPreceding:
		return fb.N.String() + " preceding"
	case BoundCurrentRow:
		return "current row"
	case BoundFollowing:
		return fb.N.String() + " following"
	}
	return "unbounded following"
}
