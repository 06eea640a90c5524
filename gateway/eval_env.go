package gateway

import "github.com/shardgate/shardgate/engine"

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
	}
	vc.s.evalEnv = &env
}
