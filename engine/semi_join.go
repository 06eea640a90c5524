package engine

import (
	"context"
	"slices"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// SemiJoinInput is one correlated [NOT] EXISTS of a SemiJoin: its inner
// query reads the join variables as arguments NParams.. of its own.
type SemiJoinInput struct {
	Not   bool
	Input Primitive
	// Group is the AND-ed condition of WHERE it belongs to: a row needs
	// one true member (subquery or flag) in every group.
	Group int
}

// SemiJoinValue is a scalar subquery of the select list: for each row
// kept, its inner query (run with the row's join variables) gives the
// value of output column Col, named Name; none is NULL, more than one row
// MySQL's error 1242.
type SemiJoinValue struct {
	Col   int
	Name  string
	Input Primitive
}

// SemiJoin keeps the rows of Outer for which every correlated subquery
// holds: EXISTS when its inner query returns a row for the row's join
// variables, NOT EXISTS when it returns none (IN and NOT IN reach it
// rewritten as those by the planner). Outer's last Vars columns are the
// join variables, then len(Flags) columns that are 1 where an outer-only
// term of an OR with subqueries is true, all hidden from the client. A row
// is kept when every group (an AND-ed condition of WHERE) has a true
// member: a flag, or a subquery. Each distinct tuple of join
// values runs an inner query once; rows keep Outer's order, and Limit
// applies to the rows kept.
type SemiJoin struct {
	Outer   Primitive
	Subs    []SemiJoinInput
	Values  []SemiJoinValue
	Vars    int
	Flags   []int // the group of each flag column
	NParams int   // the statement's own arguments; join variables follow
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
	nvis := len(r.Fields) - s.Vars - len(s.Flags)
	if nvis < 0 {
		return nil, errInternal("semi-join: outer side returned %d columns, want at least %d", len(r.Fields), s.Vars+len(s.Flags))
	}
	kinds := columnKinds(r.Fields[nvis : nvis+s.Vars])
	groups := 0
	for _, sub := range s.Subs {
		groups = max(groups, sub.Group+1)
	}
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
		vals, flags := row[nvis:nvis+s.Vars], row[nvis+s.Vars:]
		key = joinKey(key[:0], vals)
		keep := true
		for g := 0; g < groups && keep; g++ {
			holds := false
			for j, fg := range s.Flags {
				if fg == g && string(flags[j]) == "1" {
					holds = true
					break
				}
			}
			for i, sub := range s.Subs {
				if holds {
					break
				}
				if sub.Group != g {
					continue
				}
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
				holds = exists != sub.Not
			}
			keep = holds
		}
		if keep {
			if len(s.Values) > 0 {
				// The join values stay until the select-list subqueries ran.
				out.Rows = append(out.Rows, row)
			} else {
				out.Rows = append(out.Rows, row[:nvis])
			}
		}
	}
	if s.Limit != nil {
		out.Rows = applyLimit(out.Rows, offset, count)
	}
	if len(s.Values) > 0 {
		if err := s.fillValues(ctx, vc, inner, out, kinds); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scalarAnswer is what a select-list subquery gave for one tuple of join
// values.
type scalarAnswer struct {
	field *mysql.Field
	val   []byte
}

// fillValues computes the select-list subqueries of the rows kept. With no
// rows at all the inner queries still run once (join values NULL) for
// their column types.
func (s *SemiJoin) fillValues(ctx context.Context, vc VCursor, inner []any, out *Result, kinds []sortKind) error {
	nvis := len(out.Fields)
	memo := make([]map[string]scalarAnswer, len(s.Values))
	for i := range memo {
		memo[i] = map[string]scalarAnswer{}
	}
	fields := slices.Clone(out.Fields)
	named := make([]bool, len(s.Values))
	answer := func(i int, vals [][]byte) (scalarAnswer, error) {
		key := string(joinKey(nil, vals))
		if a, ok := memo[i][key]; ok {
			return a, nil
		}
		for k := range s.Vars {
			inner[s.NParams+k] = nil
			if vals != nil {
				inner[s.NParams+k] = joinArg(vals[k], kinds[k])
			}
		}
		ir, err := s.Values[i].Input.Execute(ctx, vc, inner)
		if err != nil {
			return scalarAnswer{}, err
		}
		if len(ir.Fields) != 1 {
			return scalarAnswer{}, sqlerror.New(sqlerror.User, mysql.ER_OPERAND_COLUMNS, "Operand should contain 1 column(s)")
		}
		if len(ir.Rows) > 1 {
			return scalarAnswer{}, sqlerror.New(sqlerror.User, mysql.ER_SUBQUERY_NO_1_ROW, "Subquery returns more than 1 row")
		}
		out.Warnings = addWarnings(out.Warnings, ir.Warnings)
		a := scalarAnswer{field: ir.Fields[0]}
		if len(ir.Rows) == 1 {
			a.val = ir.Rows[0][0]
		}
		memo[i][key] = a
		return a, nil
	}
	name := func(i int, a scalarAnswer) error {
		c := s.Values[i].Col
		if c < 0 || c >= nvis {
			return errInternal("semi-join: select-list subquery at column %d of %d", c, nvis)
		}
		if !named[i] {
			f := *a.field
			// Data is the packet as the shard sent it, which the gateway would
			// pass on instead of the renamed field.
			f.Name, f.OrgName, f.Table, f.OrgTable, f.Schema, f.Data = []byte(s.Values[i].Name), nil, nil, nil, nil, nil
			fields[c], named[i] = &f, true
		}
		return nil
	}
	for r, row := range out.Rows {
		row = slices.Clone(row)
		for i, v := range s.Values {
			a, err := answer(i, row[nvis:nvis+s.Vars])
			if err != nil {
				return err
			}
			if err := name(i, a); err != nil {
				return err
			}
			row[v.Col] = a.val
		}
		out.Rows[r] = row[:nvis]
	}
	for i := range s.Values {
		if !named[i] {
			a, err := answer(i, nil)
			if err != nil {
				return err
			}
			if err := name(i, a); err != nil {
				return err
			}
		}
	}
	out.Fields = fields
	return nil
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
	for _, v := range s.Values {
		in = append(in, v.Input)
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
	for _, v := range s.Values {
		kinds = append(kinds, "scalar column "+strconv.Itoa(v.Col))
	}
	other := map[string]any{"Subqueries": kinds, "JoinVars": s.Vars}
	if len(s.Flags) > 0 {
		other["OrFlags"] = len(s.Flags)
	}
	if s.Limit != nil {
		other["Limit"] = s.Limit.String()
	}
	return Description{OperatorType: "SemiJoin", Other: other}
}
