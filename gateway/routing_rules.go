package gateway

import (
	"maps"

	"github.com/go-mysql-org/go-mysql/mysql"

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
// refused with a retryable error, before anything runs; its retry is
// planned with the new rules.

// errRoutingRulesChanged answers a statement planned under old rules.
func errRoutingRulesChanged() error {
	return sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR,
		"the keyspace serving a table changed (a movetables traffic switch) while this statement waited; retry it")
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
