package gateway

import (
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
)

// The session's settings the gateway's own evaluation reads (merged
// aggregates' divisions, GROUP_CONCAT's cut): engine.EvalSettings.

var _ engine.EvalSettings = (*vcursor)(nil)

// EvalEnv returns the session's evaluation settings.
func (vc *vcursor) EvalEnv() engine.EvalEnv {
	if vc.s.evalEnv == nil {
		return engine.DefaultEvalEnv()
	}
	return *vc.s.evalEnv
}

// SetEvalVariable records a variable's value as a shard reported it
// after the session's SET.
func (vc *vcursor) SetEvalVariable(name string, value uint64) {
	env := vc.EvalEnv()
	switch name {
	case "div_precision_increment":
		env.DivPrecisionIncrement = int(min(value, 38))
	case "group_concat_max_len":
		env.GroupConcatMaxLen = value
	case "sql_select_limit":
		env.SelectLimit = value
	}
	vc.s.evalEnv = &env
}

// withSelectLimit is plan with the session's sql_select_limit applied, if
// it has one and plan is a SELECT without a LIMIT of its own (MySQL's
// rule). The shards never see the variable (build_set.go): the gateway
// cuts what it sends the client.
func (s *session) withSelectLimit(plan *planner.Plan) *planner.Plan {
	if s.evalEnv == nil || s.evalEnv.SelectLimit == engine.NoSelectLimit || !plan.TakesSelectLimit {
		return plan
	}
	limited := *plan
	limited.Root = engine.WithSelectLimit(plan.Root, s.evalEnv.SelectLimit)
	return &limited
}
