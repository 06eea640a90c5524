package reshard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// completeStreamStop is how long Complete waits, after the state change,
// for the reverse stream to notice it (it polls every idleWait) before it
// touches the sources.
const completeStreamStop = time.Second

// Complete ends a workflow whose writes are switched, as `shardctl
// reshard complete [--drop]` does:
//
//  1. the workflow goes to state completed: reverse replication stops
//     (the sources no longer follow the targets);
//  2. the workflow's rows of the position table are deleted on both
//     sides;
//  3. with drop, the keyspace's tables are dropped on the source
//     primaries (their replicas follow), and under `shardgate up` the
//     instances up started for the sources are stopped
//     (Workflow.SourcesDropped);
//  4. the source shards' tablets and the source shards leave the
//     topology (they serve nothing since the switch).
//
// Without drop the sources' data stays as it was at the completion. A
// completed workflow can be completed again: the steps an interrupted
// run left are done (drop included if asked).
func Complete(ctx context.Context, store *topo.Store, cc tablet.ConnConfig, keyspace, workflow string, drop bool) (*topo.Workflow, error) {
	already := false
	err := store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		switch {
		case w.State == topo.WorkflowCompleted:
			already = true
		case w.State != topo.WorkflowWritesSwitched:
			return fmt.Errorf("workflow %s/%s is in state %s: complete works once writes are switched: %w", keyspace, workflow, w.State, ErrInvalid)
		case !w.WriteSwitch.Over():
			return fmt.Errorf("workflow %s/%s: a write switch (%s) is under way: %w", keyspace, workflow, w.WriteSwitch.ID, ErrInvalid)
		}
		w.State = topo.WorkflowCompleted
		w.SourcesDropped = w.SourcesDropped || drop
		return nil
	})
	if err != nil {
		return nil, err
	}
	w, err := store.GetWorkflow(ctx, keyspace, workflow)
	if err != nil {
		return nil, err
	}
	if !already {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(completeStreamStop):
		}
	}
	addrs, err := workflowPrimaries(ctx, store, w)
	if err != nil {
		return nil, err
	}
	for shard, addr := range addrs {
		if err := cleanPositions(ctx, cc, addr, keyspace, workflow); err != nil {
			return nil, fmt.Errorf("shard %s/%s: %w", keyspace, shard, err)
		}
	}
	if drop {
		for _, shard := range w.SourceShards {
			addr, ok := addrs[shard]
			if !ok {
				continue // removed from the topology by an earlier run
			}
			if err := dropTables(ctx, cc, addr, keyspace); err != nil {
				return nil, fmt.Errorf("source shard %s/%s: %w", keyspace, shard, err)
			}
		}
	}
	if err := removeSources(ctx, store, w); err != nil {
		return nil, err
	}
	return w, nil
}

// workflowPrimaries are the addresses of the primaries of w's shards
// still in the topology, by shard.
func workflowPrimaries(ctx context.Context, store *topo.Store, w *topo.Workflow) (map[string]string, error) {
	out := map[string]string{}
	for _, shard := range append(slices.Clone(w.SourceShards), w.TargetShards...) {
		sh, err := store.GetShard(ctx, w.Keyspace, shard)
		if errors.Is(err, topo.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if sh.PrimaryAlias == nil {
			continue
		}
		addr, err := primaryAddr(ctx, store, sh)
		if err != nil {
			return nil, err
		}
		out[shard] = addr
	}
	return out, nil
}

// cleanPositions deletes the workflow's rows (both directions) from an
// instance's position table, if it has one.
func cleanPositions(ctx context.Context, cc tablet.ConnConfig, addr, keyspace, workflow string) error {
	cc.Addr, cc.DB = addr, ""
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close()
	str := &mysql.Field{Type: mysql.MYSQL_TYPE_VAR_STRING}
	q := []byte("DELETE FROM " + positionTable + " WHERE keyspace_name = ")
	q = appendLiteral(q, str, []byte(keyspace))
	q = appendLiteral(append(q, " AND workflow IN ("...), str, []byte(positionName(workflow, false)))
	q = appendLiteral(append(q, ", "...), str, []byte(positionName(workflow, true)))
	q = append(q, ')')
	_, err = conn.Execute(ctx, string(q))
	var myErr *mysql.MyError
	if errors.As(err, &myErr) && (myErr.Code == mysql.ER_NO_SUCH_TABLE || myErr.Code == mysql.ER_BAD_DB_ERROR) {
		return nil
	}
	return err
}

// dropTables drops every base table of the keyspace's database on an
// instance (its replicas replay the drops).
func dropTables(ctx context.Context, cc tablet.ConnConfig, addr, keyspace string) error {
	cc.Addr, cc.DB = addr, keyspace
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The sources are read-only since the switch; the drop needs them
	// writable (nothing routes writes there any more).
	if err := tablet.SetReadOnly(ctx, conn, false); err != nil {
		return err
	}
	tables, err := baseTables(ctx, conn)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := conn.Execute(ctx, "DROP TABLE IF EXISTS "+quoteIdent(t)); err != nil {
			return fmt.Errorf("drop table %s: %w", t, err)
		}
	}
	return nil
}

// removeSources deletes w's source shards and their tablets from the
// topology; they must no longer serve.
func removeSources(ctx context.Context, store *topo.Store, w *topo.Workflow) error {
	tablets, err := store.ListTablets(ctx)
	if err != nil {
		return err
	}
	for _, name := range w.SourceShards {
		if slices.Contains(w.TargetShards, name) {
			continue
		}
		sh, err := store.GetShard(ctx, w.Keyspace, name)
		if errors.Is(err, topo.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		if sh.Serving {
			return fmt.Errorf("source shard %s/%s still serves traffic; not removing it: %w", w.Keyspace, name, ErrInvalid)
		}
		for _, t := range tablets {
			if t.Keyspace == w.Keyspace && t.Shard == name {
				if err := store.DeleteTablet(ctx, t.Alias); err != nil && !errors.Is(err, topo.ErrNoNode) {
					return err
				}
			}
		}
		if err := store.DeleteShard(ctx, w.Keyspace, name); err != nil && !errors.Is(err, topo.ErrNoNode) {
			return err
		}
	}
	return store.RebuildSrvKeyspace(ctx, w.Keyspace)
}
