package engine

import (
	"context"
	"slices"
	"strconv"
	"strings"
)

// The gateway's own session variables (transaction_mode, replica_reads,
// autocommit, max_execution_time): SET changes the gateway's session,
// not the shards', so a shard cannot read them back. The planner turns
// each @@name in a SELECT into an argument that SessionVars fills from
// the session, and SHOW VARIABLES gets their rows from ShowVariables.

// GatewayVariables reads the session's gateway-owned variables; the
// gateway's session implements it beside SessionActions.
type GatewayVariables interface {
	// GatewayVariable returns a variable's value (a string, an int64 or,
	// for ON/OFF variables, a bool)
	// by its lower-case name; ok is false for a name the gateway does
	// not own.
	GatewayVariable(name string) (value any, ok bool)
}

// SessionVars runs Input with the values of the gateway's variables Names
// as arguments Base, Base+1, ... (after the statement's own).
type SessionVars struct {
	Names []string
	Base  int
	Input Primitive
}

var _ Primitive = (*SessionVars)(nil)

func (s *SessionVars) args(vc VCursor, args []any) ([]any, error) {
	gv, ok := vc.Session().(GatewayVariables)
	if !ok {
		return nil, errNoSession("@@" + strings.Join(s.Names, ", @@"))
	}
	if len(args) < s.Base {
		return nil, errWrongArgs(s.Base, len(args))
	}
	out := append(args[:s.Base:s.Base], make([]any, len(s.Names))...)
	for i, n := range s.Names {
		v, ok := gv.GatewayVariable(n)
		if !ok {
			return nil, errNoSession("@@" + n)
		}
		if b, isBool := v.(bool); isBool {
			// SELECT @@autocommit reads 1 or 0.
			v = int64(0)
			if b {
				v = int64(1)
			}
		}
		out[s.Base+i] = v
	}
	return out, nil
}

// Execute implements Primitive.
func (s *SessionVars) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	a, err := s.args(vc, args)
	if err != nil {
		return nil, err
	}
	return s.Input.Execute(ctx, vc, a)
}

// Stream implements Primitive.
func (s *SessionVars) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	a, err := s.args(vc, args)
	if err != nil {
		return err
	}
	return s.Input.Stream(ctx, vc, a, fn)
}

// Inputs implements Primitive.
func (s *SessionVars) Inputs() []Primitive { return []Primitive{s.Input} }

func (s *SessionVars) description() Description {
	return Description{OperatorType: "SessionVariables", Other: map[string]any{"Variables": s.Names}}
}

// ShowVariables is SHOW [SESSION] VARIABLES [LIKE 'pattern']: the shard's
// rows (Input), with the gateway's own variables that match the pattern
// added or, where the shard has one of the name (autocommit), replaced,
// sorted by name as MySQL sorts them.
type ShowVariables struct {
	Input Primitive
	// Names are the gateway's variables the pattern matches (the planner
	// matched them).
	Names []string
}

var _ Primitive = (*ShowVariables)(nil)

// Execute implements Primitive.
func (s *ShowVariables) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	res, err := s.Input.Execute(ctx, vc, args)
	if err != nil || len(s.Names) == 0 {
		return res, err
	}
	gv, ok := vc.Session().(GatewayVariables)
	if !ok {
		return res, nil
	}
	for _, n := range s.Names {
		v, ok := gv.GatewayVariable(n)
		if !ok {
			continue
		}
		text := variableText(v)
		i := slices.IndexFunc(res.Rows, func(r [][]byte) bool { return len(r) == 2 && strings.EqualFold(string(r[0]), n) })
		if i >= 0 {
			res.Rows[i] = [][]byte{res.Rows[i][0], []byte(text)}
			continue
		}
		res.Rows = append(res.Rows, [][]byte{[]byte(n), []byte(text)})
	}
	slices.SortStableFunc(res.Rows, func(a, b [][]byte) int { return strings.Compare(string(a[0]), string(b[0])) })
	return res, nil
}

// variableText is a variable's value as SHOW VARIABLES prints it.
func variableText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case bool:
		if x {
			return "ON"
		}
		return "OFF"
	}
	return ""
}

// Stream implements Primitive.
func (s *ShowVariables) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := s.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (s *ShowVariables) Inputs() []Primitive { return []Primitive{s.Input} }

func (s *ShowVariables) description() Description {
	return Description{OperatorType: "ShowVariables", Other: map[string]any{"GatewayVariables": s.Names}}
}
