package reshard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/vindex"
)

// CreateRequest is what `shardctl reshard create` asks for.
type CreateRequest struct {
	Keyspace, Workflow         string
	SourceShards, TargetShards []string
}

// Create checks a resharding request, prepares the targets and records
// the workflow in state copying, for a Runner to copy:
//
//   - the target shards' key ranges cover exactly the source shards';
//   - every source shard exists, serves, and has a primary tablet;
//   - target shards that don't exist are created, not serving (no gateway
//     routes to them until traffic is switched); each must have a primary
//     tablet registered (`shardctl tablet add`), unless `shardgate up`
//     runs the topology (topo.Store.LocalProvisioner): it then starts
//     them, and the schema is copied after (PrepareTargets);
//   - every source table is placed by the vschema (a primary vindex, or a
//     reference table) and has a primary key;
//   - the schema goes from the first source primary to every target
//     primary, reference tables with their rows.
//
// cc says how to log in to the primaries (Addr and DB are filled in).
func Create(ctx context.Context, store *topo.Store, cc tablet.ConnConfig, req CreateRequest) (*topo.Workflow, error) {
	if err := checkCover(req.SourceShards, req.TargetShards); err != nil {
		return nil, err
	}
	if _, err := store.GetWorkflow(ctx, req.Keyspace, req.Workflow); err == nil {
		return nil, fmt.Errorf("workflow %s/%s: %w", req.Keyspace, req.Workflow, topo.ErrNodeExists)
	} else if !errors.Is(err, topo.ErrNoNode) {
		return nil, err
	}
	var sources []string
	for _, name := range req.SourceShards {
		sh, err := store.GetShard(ctx, req.Keyspace, name)
		if err != nil {
			return nil, fmt.Errorf("source shard: %w", err)
		}
		if !sh.Serving {
			return nil, fmt.Errorf("source shard %s/%s is not serving: %w", req.Keyspace, name, ErrInvalid)
		}
		addr, err := primaryAddr(ctx, store, sh)
		if err != nil {
			return nil, err
		}
		sources = append(sources, addr)
	}
	var targets []string
	// provision: a target has no primary and `shardgate up` runs this
	// topology; it starts the targets' instances (provision.go).
	provision := false
	_, noProvisioner := store.LocalProvisioner(ctx)
	for _, name := range req.TargetShards {
		sh, err := store.GetShard(ctx, req.Keyspace, name)
		if errors.Is(err, topo.ErrNoNode) {
			sh = &topo.Shard{Keyspace: req.Keyspace, Name: name}
			err = store.CreateShard(ctx, sh)
		}
		if err != nil {
			return nil, fmt.Errorf("target shard: %w", err)
		}
		if sh.Serving {
			return nil, fmt.Errorf("target shard %s/%s already serves traffic: %w", req.Keyspace, name, ErrInvalid)
		}
		if sh.PrimaryAlias == nil && noProvisioner == nil {
			provision = true
			continue
		}
		addr, err := primaryAddr(ctx, store, sh)
		if err != nil {
			return nil, fmt.Errorf("%w (register one with: shardctl tablet add --keyspace %s --shard %s --type primary --address HOST:PORT)", err, req.Keyspace, name)
		}
		targets = append(targets, addr)
	}

	split, reference, err := sourceTables(ctx, store, cc, req.Keyspace, sources[0])
	if err != nil {
		return nil, err
	}
	if !provision {
		if err := copySchema(ctx, cc, req.Keyspace, sources[0], targets, split, reference); err != nil {
			return nil, err
		}
	}

	w := &topo.Workflow{
		Keyspace:     req.Keyspace,
		Name:         req.Workflow,
		Kind:         topo.WorkflowReshard,
		State:        topo.WorkflowCopying,
		SourceShards: sortedShards(req.SourceShards),
		TargetShards: sortedShards(req.TargetShards),
		// The schema is copied once the provisioner has started every
		// target (PrepareTargets).
		ProvisionTargets: provision,
	}
	if err := store.CreateWorkflow(ctx, w); err != nil {
		return nil, err
	}
	return w, nil
}

// sourceTables reads a source's tables and sorts them into split and
// reference tables, checking that the vschema places each split table
// and that it has a primary key.
func sourceTables(ctx context.Context, store *topo.Store, cc tablet.ConnConfig, keyspace, source string) (split, reference []string, err error) {
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	ks := snap.VSchema.Keyspaces[keyspace]
	cc.Addr, cc.DB = source, keyspace
	src, err := tablet.Dial(ctx, cc)
	if err != nil {
		return nil, nil, fmt.Errorf("source %s: %w", source, err)
	}
	defer src.Close()
	tables, err := baseTables(ctx, src)
	if err == nil {
		split, reference, err = splitTables(ks, tables)
	}
	for _, t := range split {
		if err != nil {
			break
		}
		_, err = describeTable(ctx, src, ks, t)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("source %s: %w", source, err)
	}
	return split, reference, nil
}

// primaryAddr is the address of a shard's primary tablet.
func primaryAddr(ctx context.Context, store *topo.Store, sh *topo.Shard) (string, error) {
	if sh.PrimaryAlias == nil {
		return "", fmt.Errorf("shard %s/%s has no primary tablet: %w", sh.Keyspace, sh.Name, ErrInvalid)
	}
	t, err := store.GetTablet(ctx, *sh.PrimaryAlias)
	if err != nil {
		return "", fmt.Errorf("shard %s/%s primary: %w", sh.Keyspace, sh.Name, err)
	}
	return t.Addr(), nil
}

// sortedShards returns shard names in key order (checkCover has checked
// that they parse and don't overlap).
func sortedShards(names []string) []string {
	out := slices.Clone(names)
	slices.SortFunc(out, func(a, b string) int {
		ka, _ := vindex.ParseKeyRange(a)
		kb, _ := vindex.ParseKeyRange(b)
		return bytes.Compare(ka.Start, kb.Start)
	})
	return out
}
