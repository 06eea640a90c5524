package gateway

import "github.com/shardgate/shardgate/engine"

var _ engine.GatewayVariables = (*vcursor)(nil)

// GatewayVariable reads back what SET changed at the gateway only
// (planner/build_session_vars.go plans the reads): SELECT
// @@transaction_mode and SHOW VARIABLES LIKE 'transaction_mode' answer
// the session's value, not a shard's. max_execution_time is the
// session's statement limit in milliseconds, whichever of
// max_execution_time and max_statement_time set it last.
func (vc *vcursor) GatewayVariable(name string) (any, bool) {
	s := vc.s
	switch name {
	case "transaction_mode":
		return s.txMode.String(), true
	case "replica_reads":
		return s.replicaReads.String(), true
	case "autocommit":
		return s.autocommit, true
	case "max_execution_time":
		return s.maxStatementTime.Milliseconds(), true
	case "sql_select_limit":
		return vc.EvalEnv().SelectLimit, true
	}
	return nil, false
}
