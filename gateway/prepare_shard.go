package gateway

import (
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
)

// Prepared statements end to end. A client's COM_STMT_EXECUTE whose plan
// is one Route (a single shard, or an unordered scatter: the gateway
// changes nothing in the rows) runs on each shard as that shard
// connection's own prepared statement (tablet.StreamPrepared: prepared
// once per connection, then executed with the client's arguments), and
// the shard's binary rows go to the client as they are, through the same
// forwarder as text rows (forward.go): no decoding into text and
// encoding back, exact FLOATs for free, and no text rendering of the
// statement (only a shard connection that cannot prepare it renders its
// text). The column definitions are the shard's own already
// (wire.AppendColumn). Text statements keep their single COM_QUERY round
// trip; a plan that merges, sorts, limits or joins keeps reading text
// rows, which it must decode anyway.

// shardPrepared returns the prepared form a COM_STMT_EXECUTE's Route runs
// in on the shards, or nil when it runs as text: the plan is not a
// SELECT, the route's query has a hole an argument cannot fill
// (engine.Route.Prepared), or shard-side prepared statements are off
// (--shard-prepared-statements=-1).
func (s *session) shardPrepared(plan *planner.Plan, route *engine.Route) *engine.PreparedQuery {
	if plan.Type != planner.StmtSelect || s.srv.cfg.Backend.PreparedStatements < 0 {
		return nil
	}
	return route.Prepared()
}
