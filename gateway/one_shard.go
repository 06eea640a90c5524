package gateway

import (
	"context"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// oneShard is a statement the gateway runs itself on the one shard of an
// unsharded keyspace or of the session's target (CALL, LOAD DATA LOCAL):
// its query, the connection it runs on, and the cursor it was taken with.
type oneShard struct {
	vc    *vcursor
	sc    *shardConn
	query string
	done  func() // gives the connection back and counts the call
}

// planOneShard plans stmt, which must route to a single unsharded or
// targeted shard (else 1235 naming what), applies the session's rules
// and takes that shard's connection: the session's transaction's, or a
// pooled one that done gives back.
func (s *session) planOneShard(ctx context.Context, stmt ast.StmtNode, sql string, args []any, what string) (*oneShard, error) {
	plan, r, err := s.buildPlan(stmt, sql)
	if err != nil {
		return nil, err
	}
	route, ok := plan.Root.(*engine.Route)
	if !ok || route.Opcode != engine.Unsharded && route.Opcode != engine.ByDestination {
		return nil, sqlerror.NotSupported(what)
	}
	if err := s.enterPlan(ctx, plan); err != nil {
		return nil, err
	}
	vc := s.newVCursor(r)
	shard, query, err := route.SingleShard(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	sc, tc, pooled, err := vc.conn(ctx, route.Keyspace, shard, nil)
	if err != nil {
		return nil, err
	}
	return &oneShard{vc: vc, sc: sc, query: query, done: func() {
		tc.countSince(start)
		releasePooled(sc, pooled)
	}}, nil
}
