package engine

import (
	"context"
	"strconv"
)

// The session state gateway evaluation depends on. MySQL computes
// expressions with the session's div_precision_increment and cuts
// GROUP_CONCAT at its group_concat_max_len; where the gateway computes
// them itself (merged aggregates, HAVING) it must use the same values, or
// a client that changed them would get a different answer than from one
// MySQL. The gateway's session keeps them (read back from a shard after
// each SET, so MySQL's own clamping applies) and hands them to the plan
// through the VCursor's session.

// EvalEnv is the session's settings evaluation reads.
type EvalEnv struct {
	// DivPrecisionIncrement is the digits a DECIMAL division adds to its
	// dividend's scale (div_precision_increment, 0..38).
	DivPrecisionIncrement int
	// GroupConcatMaxLen is the byte length GROUP_CONCAT results are cut to
	// (group_concat_max_len), with warning 1260.
	GroupConcatMaxLen uint64
}

// DefaultEvalEnv is MySQL's and MariaDB's defaults: what a session that
// set neither variable evaluates with.
func DefaultEvalEnv() EvalEnv {
	return EvalEnv{DivPrecisionIncrement: 4, GroupConcatMaxLen: 1 << 20}
}

// EvalSettings is the part of the gateway's session that keeps EvalEnv;
// it implements it beside SessionActions.
type EvalSettings interface {
	// EvalEnv returns the session's evaluation settings.
	EvalEnv() EvalEnv
	// SetEvalVariable records the effective value of a variable
	// IsEvalVariable names, as the shards report it after a SET.
	SetEvalVariable(name string, value uint64)
}

// IsEvalVariable reports whether name (lower case) is a session
// variable that changes gateway evaluation, so that SET of it must also
// tell the gateway.
func IsEvalVariable(name string) bool {
	switch name {
	case "div_precision_increment", "group_concat_max_len":
		return true
	}
	return false
}

// evalEnvOf is the session's evaluation settings, or MySQL's defaults
// where there is no session (offline explain, the planner's fakes).
func evalEnvOf(vc VCursor) EvalEnv {
	if vc != nil {
		if s, ok := vc.Session().(EvalSettings); ok {
			return s.EvalEnv()
		}
	}
	return DefaultEvalEnv()
}

// SetEvalVariable follows a SET of a variable IsEvalVariable names (after its
// SetShardSetting): Read asks a shard, with the session's settings
// applied, what the variable now is, and the session keeps that value.
// Reading it back rather than parsing the SET's value leaves clamping
// (div_precision_increment = 99 is 38), DEFAULT and expressions to MySQL.
type SetEvalVariable struct {
	Name string
	Read *Send
}

func (o *SetEvalVariable) apply(ctx context.Context, vc VCursor, _ SettingActions) error {
	es, ok := vc.Session().(EvalSettings)
	if !ok {
		return errNoSession("SET " + o.Name)
	}
	res, err := o.Read.Execute(ctx, vc, nil)
	if err != nil {
		return err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 || res.Rows[0][0] == nil {
		return errInternal("reading @@%s back did not give one value", o.Name)
	}
	v, err := strconv.ParseUint(string(res.Rows[0][0]), 10, 64)
	if err != nil {
		return errInternal("@@%s is %q, not a number", o.Name, res.Rows[0][0])
	}
	es.SetEvalVariable(o.Name, v)
	return nil
}

func (o *SetEvalVariable) String() string {
	return "gateway evaluation reads " + o.Name + " (from " + o.Read.Keyspace + ": " + o.Read.Query + ")"
}

// evalCtx is what an Expr reads besides the row and the arguments: how
// each column compares and the session's settings.
type evalCtx struct {
	kinds []sortKind
	env   EvalEnv
}
