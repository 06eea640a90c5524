package engine

import (
	"context"
	"strings"
)

// Uncorrelated subqueries in WHERE that do not stay on one shard are run
// first, and their values written into the outer query: `x IN (select
// ...)` becomes `x in (1, 2)` (or 0 when the subquery is empty), `x =
// (select ...)` a literal, EXISTS 1 or 0. The outer plan is built with
// holes for them that are filled from extra arguments after the
// statement's own.

type SubqueryKind int

const (
	SubIn SubqueryKind = iota
	SubExists
	SubScalar
	SubAny // left op ANY/SOME (subquery), op other than =
	SubAll // left op ALL (subquery), op other than <>
)

// String names the kind in plans.
func (k SubqueryKind) String() string {
	switch k {
	case SubIn:
		return "IN"
	case SubExists:
		return "EXISTS"
	case SubScalar:
		return "scalar"
	case SubAny:
		return "ANY"
	}
	return "ALL"
}

// rawSQL is an argument rendered into a template as it is.
type rawSQL string

// subValues is an argument holding an IN subquery's distinct non-NULL
// values, for a Route that routes by them (routing.SubValues).
type subValues []Value

// SubqueryInput is one subquery run before the outer query.
type SubqueryInput struct {
	Kind  SubqueryKind
	Not   bool
	Left  string // IN, ANY, ALL: the rendered left operand
	Op    string // ANY, ALL: the comparison operator
	Cols  int    // row IN: the row's width (0: a plain IN)
	Input Primitive
	// AsValues: the outer Route routes by the values (IN on its vindex
	// column), so they are handed over as subValues, not as SQL.
	AsValues bool
}

// UncorrelatedSubquery runs its subqueries, then Outer with their values.
type UncorrelatedSubquery struct {
	Subs    []SubqueryInput
	Outer   Primitive
	NParams int // the statement's own arguments; subquery values follow
}

var _ Primitive = (*UncorrelatedSubquery)(nil)

func (u *UncorrelatedSubquery) outerArgs(ctx context.Context, vc VCursor, args []any) ([]any, error) {
	if len(args) < u.NParams {
		return nil, errWrongArgs(u.NParams, len(args))
	}
	out := append(args[:u.NParams:u.NParams], make([]any, len(u.Subs))...)
	for i, s := range u.Subs {
		r, err := s.Input.Execute(ctx, vc, args)
		if err != nil {
			return nil, err
		}
		if s.AsValues {
			vals, err := s.values(r)
			if err != nil {
				return nil, err
			}
			out[u.NParams+i] = vals
			continue
		}
		v, err := s.value(r)
		if err != nil {
			return nil, err
		}
		out[u.NParams+i] = v
	}
	return out, nil
}

// values lists an IN subquery's distinct non-NULL values.
func (s SubqueryInput) values(r *Result) (subValues, error) {
	if len(r.Fields) != 1 {
		return nil, errOperandColumns(1)
	}
	kind := sortKindOf(r.Fields[0])
	seen := map[string]bool{}
	var out subValues
	for _, row := range r.Rows {
		if row[0] == nil || seen[string(row[0])] {
			continue
		}
		seen[string(row[0])] = true
		out = append(out, literalOf(row[0], kind))
	}
	return out, nil
}

// value renders a subquery's result as the SQL that replaces it (a
// scalarArg for a scalar subquery, which the gateway may also evaluate).
func (s SubqueryInput) value(r *Result) (any, error) {
	switch {
	case s.Kind == SubScalar:
		return scalarValue(r)
	case s.Kind == SubAny || s.Kind == SubAll:
		return s.quantifiedValue(r)
	case s.Cols > 0:
		return s.rowInValue(r)
	case s.Kind == SubExists:
		if (len(r.Rows) > 0) != s.Not {
			return rawSQL("1"), nil
		}
		return rawSQL("0"), nil
	}
	if len(r.Fields) != 1 {
		return nil, errOperandColumns(1)
	}
	kind := sortKindOf(r.Fields[0])
	lit := func(v []byte) string {
		if v == nil {
			return "null"
		}
		return literalOf(v, kind).SQL
	}
	if len(r.Rows) == 0 {
		if s.Not {
			return rawSQL("1"), nil
		}
		return rawSQL("0"), nil
	}
	var sb strings.Builder
	sb.WriteString(s.Left)
	if s.Not {
		sb.WriteString(" not")
	}
	sb.WriteString(" in (")
	seen := map[string]bool{}
	first := true
	for _, row := range r.Rows {
		l := lit(row[0])
		if seen[l] {
			continue
		}
		seen[l] = true
		if !first {
			sb.WriteString(", ")
		}
		first = false
		sb.WriteString(l)
	}
	sb.WriteString(")")
	return rawSQL(sb.String()), nil
}

// Execute implements Primitive.
func (u *UncorrelatedSubquery) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	a, err := u.outerArgs(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	return u.Outer.Execute(ctx, vc, a)
}

// Stream implements Primitive.
func (u *UncorrelatedSubquery) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	a, err := u.outerArgs(ctx, vc, args)
	if err != nil {
		return err
	}
	return u.Outer.Stream(ctx, vc, a, fn)
}

// Inputs implements Primitive: the subqueries, then the outer query.
func (u *UncorrelatedSubquery) Inputs() []Primitive {
	var in []Primitive
	for _, s := range u.Subs {
		in = append(in, s.Input)
	}
	return append(in, u.Outer)
}

func (u *UncorrelatedSubquery) description() Description {
	var kinds []string
	for _, s := range u.Subs {
		k := s.Kind.String()
		if s.Kind == SubAny || s.Kind == SubAll {
			k = s.Op + " " + k
		} else if s.Cols > 0 {
			k = "row IN"
		}
		if s.Not {
			k = "NOT " + k
		}
		kinds = append(kinds, k)
	}
	return Description{OperatorType: "UncorrelatedSubquery", Other: map[string]any{"Subqueries": kinds}}
}
