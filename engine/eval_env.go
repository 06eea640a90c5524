package engine

import (
	"context"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
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
	// SelectLimit is sql_select_limit: the most rows a SELECT without a
	// LIMIT of its own returns. The gateway applies it to the client's
	// result; the shards never see it, or they would cut the partial
	// results the gateway merges (a group's rows on one shard, a sorted
	// scatter's).
	SelectLimit uint64
}

// NoSelectLimit is sql_select_limit's default: no limit.
const NoSelectLimit = ^uint64(0)

// WithSelectLimit is in cut to its first n rows: a SELECT under the
// session's sql_select_limit.
func WithSelectLimit(in Primitive, n uint64) Primitive {
	return &Limit{Input: in, Spec: LimitSpec{Count: Value{Param: -1, Val: n, SQL: strconv.FormatUint(n, 10)}}}
}

// DefaultEvalEnv is MySQL's and MariaDB's defaults: what a session that
// set neither variable evaluates with.
func DefaultEvalEnv() EvalEnv {
	return EvalEnv{DivPrecisionIncrement: 4, GroupConcatMaxLen: 1 << 20, SelectLimit: NoSelectLimit}
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
	case "div_precision_increment", "group_concat_max_len", "sql_select_limit":
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

// SetEvalVariable follows a SET of a variable IsEvalVariable names
// (after its SetShardSetting). A value the planner could read (an
// unsigned literal, DEFAULT) is Value, kept within MySQL's bounds here;
// any other (an expression, a negative number) is read back by Read from
// a shard with the session's settings applied, so that MySQL clamps and
// evaluates it.
type SetEvalVariable struct {
	Name  string
	Value *uint64
	Read  *Send
}

func (o *SetEvalVariable) apply(ctx context.Context, vc VCursor, _ SettingActions) error {
	es, ok := vc.Session().(EvalSettings)
	if !ok {
		return errNoSession("SET " + o.Name)
	}
	if o.Value != nil {
		es.SetEvalVariable(o.Name, boundEvalVariable(o.Name, *o.Value))
		return nil
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

// EvalVariableDefault is a variable's value after SET ... = DEFAULT.
func EvalVariableDefault(name string) uint64 {
	d := DefaultEvalEnv()
	switch name {
	case "div_precision_increment":
		return uint64(d.DivPrecisionIncrement)
	case "group_concat_max_len":
		return d.GroupConcatMaxLen
	}
	return d.SelectLimit
}

// boundEvalVariable is v kept within the variable's range, as MySQL keeps
// it (with a warning the shards give): div_precision_increment at most
// 38, group_concat_max_len at least 4.
func boundEvalVariable(name string, v uint64) uint64 {
	switch name {
	case "div_precision_increment":
		return min(v, maxDecimalScale)
	case "group_concat_max_len":
		return max(v, 4)
	}
	return v
}

func (o *SetEvalVariable) String() string {
	if o.Value != nil {
		return "gateway evaluation reads " + o.Name + "=" + strconv.FormatUint(*o.Value, 10)
	}
	return "gateway evaluation reads " + o.Name + " (from " + o.Read.Keyspace + ": " + o.Read.Query + ")"
}

// evalCtx is what an Expr reads besides the row and the arguments: the
// columns' fields and how each compares, and the session's settings.
type evalCtx struct {
	fields []*mysql.Field
	kinds  []sortKind
	env    EvalEnv
}

func newEvalCtx(fields []*mysql.Field, env EvalEnv) *evalCtx {
	return &evalCtx{fields: fields, kinds: columnKinds(fields), env: env}
}
