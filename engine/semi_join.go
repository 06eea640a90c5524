package engine

import "context"

// SemiJoinInput is one correlated [NOT] EXISTS of a SemiJoin: its inner
// query reads the join variables as arguments NParams.. of its own.
type SemiJoinInput struct {
	Not   bool
	Input Primitive
}

// SemiJoin keeps the rows of Outer for which every correlated subquery
// holds: EXISTS when its inner query returns a row for the row's join
// variables, NOT EXISTS when it returns none (IN and NOT IN reach it
// rewritten as those by the planner). Outer's last Vars columns are the
// join variables, hidden from the client. Each distinct tuple of join
// values runs an inner query once; rows keep Outer's order, and Limit
// applies to the rows kept.
type SemiJoin struct {
	Outer   Primitive
	Subs    []SemiJoinInput
	Vars    int
	NParams int // the statement's own arguments; join variables follow
	Limit   *LimitSpec
}

var _ Primitive = (*SemiJoin)(nil)

// Execute implements Primitive.
func (s *SemiJoin) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	if len(args) < s.NParams {
		return nil, errWrongArgs(s.NParams, len(args))
	}
	var count, offset uint64
	if s.Limit != nil {
		var err error
		if count, offset, err = s.Limit.values(args); err != nil {
			return nil, err
		}
	}
	r, err := s.Outer.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	nvis := len(r.Fields) - s.Vars
	if nvis < 0 {
		return nil, errInternal("semi-join: outer side returned %d columns, want at least %d", len(r.Fields), s.Vars)
	}
	kinds := columnKinds(r.Fields[nvis:])
	out := &Result{Fields: r.Fields[:nvis], Warnings: r.Warnings}
	// Answers already known, per subquery, by the join values' bytes.
	memo := make([]map[string]bool, len(s.Subs))
	for i := range memo {
		memo[i] = map[string]bool{}
	}
	inner := append(args[:s.NParams:s.NParams], make([]any, s.Vars)...)
	var key []byte
	for _, row := range r.Rows {
		if s.Limit != nil && uint64(len(out.Rows)) >= offset+count {
			break
		}
		vals := row[nvis:]
		key = joinKey(key[:0], vals)
		keep := true
		for i, sub := range s.Subs {
			exists, known := memo[i][string(key)]
			if !known {
				for k, v := range vals {
					inner[s.NParams+k] = joinArg(v, kinds[k])
				}
				ir, err := sub.Input.Execute(ctx, vc, inner)
				if err != nil {
					return nil, err
				}
				exists = len(ir.Rows) > 0
				out.Warnings = addWarnings(out.Warnings, ir.Warnings)
				memo[i][string(key)] = exists
			}
			if exists == sub.Not {
				keep = false
				break
			}
		}
		if keep {
			out.Rows = append(out.Rows, row[:nvis])
		}
	}
	if s.Limit != nil {
		out.Rows = applyLimit(out.Rows, offset, count)
	}
	return out, nil
}

// joinKey writes a tuple of values so that distinct tuples differ: each
// value length-prefixed, NULL apart from every string.
func joinKey(b []byte, vals [][]byte) []byte {
	for _, v := range vals {
		if v == nil {
			b = append(b, 0xff)
			continue
		}
		n := len(v)
		b = append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		b = append(b, v...)
	}
	return b
}

// joinArg is a value read from a shard as an argument of an inner query:
// integers and strings as Go values (so a vindex can place them), other
// numbers as their SQL text, NULL as nil.
func joinArg(v []byte, kind sortKind) any {
	if v == nil {
		return nil
	}
	lit := literalOf(v, kind)
	if lit.Mappable {
		return lit.Val
	}
	return rawSQL(lit.SQL)
}

// Stream implements Primitive: every inner query must run before the rows
// it decides are sent, and on a shard connection the outer query would
// still hold, so the outer side is read whole.
func (s *SemiJoin) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, s, vc, args, fn)
}

// Inputs implements Primitive: the outer query, then the subqueries.
func (s *SemiJoin) Inputs() []Primitive {
	in := []Primitive{s.Outer}
	for _, sub := range s.Subs {
		in = append(in, sub.Input)
	}
	return in
}

func (s *SemiJoin) description() Description {
	var kinds []string
	for _, sub := range s.Subs {
		k := "EXISTS"
		if sub.Not {
			k = "NOT EXISTS"
		}
		kinds = append(kinds, k)
	}
	other := map[string]any{"Subqueries": kinds, "JoinVars": s.Vars}
	if s.Limit != nil {
		other["Limit"] = s.Limit.String()
	}
	return Description{OperatorType: "SemiJoin", Other: other}
}
