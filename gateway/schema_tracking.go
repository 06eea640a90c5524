package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/schema"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// schemaWait bounds how long a DDL statement waits, after saving the
// columns it changed, for this gateway's snapshot to carry them.
const schemaWait = 5 * time.Second

// startSchemaTracker runs the leader-elected schema tracker (package
// schema) on the server's wait group, when the topology is etcd's and
// the config does not turn it off. Every gateway takes part in the
// election; one re-reads the shards each SchemaTrackInterval.
func (s *Server) startSchemaTracker() {
	st, ok := s.cfg.Topo.(schema.Store)
	if !ok || s.cfg.SchemaTrackInterval < 0 {
		return
	}
	tr := schema.NewTracker(schema.Config{
		Store:    st,
		Snapshot: func() *topo.Snapshot { return s.topo.current.Load().snap },
		Conn:     tablet.ConnConfig{User: s.cfg.Backend.User, Password: s.cfg.Backend.Password},
		Interval: s.cfg.SchemaTrackInterval,
		ID:       s.cfg.GatewayID,
		Logger:   s.logger,
	})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tr.Run(s.ctx)
	}()
}

// refreshSchemaAfterDDL re-reads the columns of the keyspace a DDL
// statement changed, saves them in etcd and waits until this gateway's
// routing has them, so the session's next statement (a column-less
// INSERT into the table just created) plans with them. Other gateways
// follow through their watch. A failure is logged, not returned: the DDL
// itself succeeded, and the tracker's next pass tries again.
func (s *session) refreshSchemaAfterDDL(ctx context.Context, plan *planner.Plan) {
	st, ok := s.srv.cfg.Topo.(schema.Store)
	if !ok {
		return
	}
	ks := ddlKeyspace(plan)
	r := s.srv.topo.current.Load()
	if ks == "" || r.snap == nil || r.snap.Keyspaces[ks] == nil || !r.snap.Keyspaces[ks].Sharded {
		return
	}
	if err := s.srv.refreshSchema(ctx, st, r, ks); err != nil {
		s.srv.logger.Warn("schema: refresh after DDL failed; the tracker will retry", "keyspace", ks, "err", err)
	}
}

// refreshSchema reads keyspace ks's columns from its first serving
// primary through the gateway's pool, saves them and waits for the
// routing to reach the save.
func (s *Server) refreshSchema(ctx context.Context, st schema.Store, r *routing, ks string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), schemaWait)
	defer cancel()
	shard, _, ok := schema.Source(r.snap, ks)
	if !ok {
		return fmt.Errorf("keyspace %s has no serving primary", ks)
	}
	pools := r.tablets[topo.TabletPrimary][shardKey{ks, shard}]
	if len(pools) == 0 {
		return fmt.Errorf("no pool for the primary of %s/%s", ks, shard)
	}
	rev, err := schema.Refresh(ctx, st, pools[0], ks, shard)
	if err != nil {
		return err
	}
	for {
		if cur := s.topo.current.Load(); cur.snap != nil && cur.snap.Revision >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the snapshot did not reach revision %d: %w", rev, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// ddlKeyspace is the keyspace a DDL plan changed: a DDL primitive's, or
// a targeted shard's route.
func ddlKeyspace(plan *planner.Plan) string {
	switch p := plan.Root.(type) {
	case *engine.DDL:
		return p.Keyspace
	case *engine.Route:
		return p.Keyspace
	}
	return ""
}
