package gateway

import (
	"errors"
	"maps"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo/vschema"
)

// Routing rules (vschema.RoutingRules) send a moved table's statements to
// the keyspace that serves it; the planner applies them, so a plan holds
// the keyspace they chose. A movetables write switch flips them while
// every gateway holds the source keyspace's writes: a statement planned
// before the flip and released by the buffer after it would write to the
// source, which no longer serves the table, and the write would be lost
// to the target. So a statement whose routing (taken when it started)
// has other rules than the current routing when it reaches a primary is
// refused with a retryable error, before anything runs; a write outside
// a transaction is then planned again and run with the new rules
// (replanAfterRules), other statements answer the error.

// errRulesChanged is wrapped by errRoutingRulesChanged's answers.
var errRulesChanged = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "the routing rules changed")

// errRoutingRulesChanged answers a statement planned under old rules.
func errRoutingRulesChanged() error {
	return sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR,
		"the keyspace serving a table changed (a movetables traffic switch) while this statement waited; retry it: %w", errRulesChanged)
}

// replanAfterRules gives a write refused because the rules changed
// (errRulesChanged) a new plan under the current rules, so the gateway
// runs it again instead of failing it: the refusal comes before the
// statement reaches a shard. Only outside transactions, and not for a
// multi-shard write under transaction_mode multi (another shard may have
// committed its part), as for a resharding's re-route; a SELECT, which
// may have streamed rows, is answered the error.
func (s *session) replanAfterRules(err error, plan *planner.Plan) (*planner.Plan, *routing, bool) {
	if err == nil || !errors.Is(err, errRulesChanged) || s.tx != nil || !isWrite(plan.Type) || s.txMode == modeMulti {
		return nil, nil, false
	}
	stmts, perr := s.parser.Parse(plan.Original)
	if perr != nil || len(stmts) != 1 {
		return nil, nil, false
	}
	// The statement's own snapshot is the one with the old rules: it
	// goes on with the current routing.
	r := s.srv.topo.current.Load()
	if r.snap == nil {
		return nil, nil, false
	}
	s.stmt.routing = r
	again, berr := planner.Build(stmts[0], plan.Original, r.vschema(), s.target())
	if berr != nil || again.ParamCount != plan.ParamCount || again.Type != plan.Type {
		return nil, nil, false
	}
	return again, r, true
}

// rulesChanged reports whether two routings route tables by different
// rules.
func rulesChanged(a, b *routing) bool {
	if a == b || a.snap == nil || b.snap == nil {
		return false
	}
	ra, rb := a.snap.VSchema.RoutingRules, b.snap.VSchema.RoutingRules
	if ra == nil && rb == nil {
		return false
	}
	return !maps.EqualFunc(ra, rb, func(x, y *vschema.RoutingRule) bool { return *x == *y })
}
