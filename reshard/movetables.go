package reshard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// MoveTablesRequest is what `shardctl movetables create` asks for.
type MoveTablesRequest struct {
	Workflow       string
	SourceKeyspace string // "" with External
	TargetKeyspace string
	Tables         []string
	// External is a source database outside the topology, instead of
	// SourceKeyspace.
	External *topo.ExternalSource
}

// externalShard names an external source's one "shard" in the workflow
// record (its copy and catch-up progress are kept under it).
const externalShard = "0"

// CreateMoveTables checks a table move, prepares the target and records
// the workflow in state copying, for a Runner to copy and catch up with
// the same machinery as a reshard:
//
//   - the target keyspace's vschema places every table (a sharded keyspace
//     declares it with a single-column functional primary vindex; an
//     unsharded one takes any table);
//   - every table exists on the source, with a primary key; an external
//     source has log_bin, binlog_format=ROW, binlog_row_image=FULL and
//     MariaDB GTIDs (checkExternalSource);
//   - the tables are created on every serving shard of the target keyspace
//     (SHOW CREATE TABLE from the first source) and must be empty there;
//   - routing rules keep the tables served by the source until traffic is
//     switched: `src.t`, `dst.t` and bare `t` all go to `src.t` (for an
//     external source, to nowhere: the target's half-copied table is not
//     served);
//   - the workflow is recorded in the target keyspace.
//
// cc says how to log in to the topology's primaries.
func CreateMoveTables(ctx context.Context, store *topo.Store, cc tablet.ConnConfig, req MoveTablesRequest) (*topo.Workflow, error) {
	if len(req.Tables) == 0 {
		return nil, fmt.Errorf("no tables to move: %w", ErrInvalid)
	}
	if (req.SourceKeyspace == "") == (req.External == nil) {
		return nil, fmt.Errorf("give either a source keyspace or an external source: %w", ErrInvalid)
	}
	if req.SourceKeyspace == req.TargetKeyspace {
		return nil, fmt.Errorf("source and target keyspace are both %q: %w", req.TargetKeyspace, ErrInvalid)
	}
	tables := slices.Clone(req.Tables)
	slices.Sort(tables)
	if len(slices.Compact(slices.Clone(tables))) != len(tables) {
		return nil, fmt.Errorf("tables %v: a table is named twice: %w", req.Tables, ErrInvalid)
	}
	if _, err := store.GetWorkflow(ctx, req.TargetKeyspace, req.Workflow); err == nil {
		return nil, fmt.Errorf("workflow %s/%s: %w", req.TargetKeyspace, req.Workflow, topo.ErrNodeExists)
	} else if !errors.Is(err, topo.ErrNoNode) {
		return nil, err
	}
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	ks := snap.VSchema.Keyspaces[req.TargetKeyspace]
	if ks == nil {
		return nil, fmt.Errorf("target keyspace %q doesn't exist: %w", req.TargetKeyspace, ErrInvalid)
	}
	for _, t := range tables {
		if err := placesMoved(ks, t); err != nil {
			return nil, fmt.Errorf("target keyspace %q can't place table %q (add it to the vschema first): %w", req.TargetKeyspace, t, err)
		}
		for _, from := range ruleKeys(req.SourceKeyspace, req.TargetKeyspace, t) {
			if r := snap.VSchema.RoutingRules[from]; r != nil {
				return nil, fmt.Errorf("table %q already has a routing rule (from %s, workflow %s): %w", t, from, r.Workflow, ErrInvalid)
			}
		}
	}
	targetShards, targetAddrs, err := servingPrimaries(snap, req.TargetKeyspace)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}

	w := &topo.Workflow{
		Keyspace:     req.TargetKeyspace,
		Name:         req.Workflow,
		Kind:         topo.WorkflowMoveTables,
		State:        topo.WorkflowCopying,
		TargetShards: targetShards,
		MoveTables:   &topo.MoveTables{SourceKeyspace: req.SourceKeyspace, Tables: tables, External: req.External},
	}
	var sourceAddrs []string
	if req.External != nil {
		w.SourceShards = []string{externalShard}
		sourceAddrs = []string{req.External.Address}
		if err := checkExternalSource(ctx, sourceLogin(cc, w, req.External.Address)); err != nil {
			return nil, err
		}
	} else {
		if snap.Keyspaces[req.SourceKeyspace] == nil {
			return nil, fmt.Errorf("source keyspace %q doesn't exist: %w", req.SourceKeyspace, ErrInvalid)
		}
		if w.SourceShards, sourceAddrs, err = servingPrimaries(snap, req.SourceKeyspace); err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
	}

	login := sourceLogin(cc, w, sourceAddrs[0])
	src, err := tablet.Dial(ctx, login)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", login.Addr, err)
	}
	for _, t := range tables {
		if _, err = describeColumns(ctx, src, t); err != nil {
			break
		}
	}
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("source %s database %s: %w", login.Addr, login.DB, err)
	}
	// The rules first: the gateways route the tables to the source before
	// they exist on the target, so no statement reaches a half-copied
	// table.
	if err := store.UpdateRoutingRules(ctx, func(rr *vschema.RoutingRules) error {
		rr.Rules = append(rr.Rules, moveRules(w, req.SourceKeyspace != "", false, 0)...)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("routing rules: %w", err)
	}
	err = copyTables(ctx, login, cc, req.TargetKeyspace, targetAddrs, tables, tables, nil)
	if err == nil {
		err = store.CreateWorkflow(ctx, w)
	}
	if err != nil {
		if rerr := removeMoveRules(ctx, store, w); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	return w, nil
}

// servingPrimaries lists a keyspace's serving shards (primary partition)
// and their primaries' addresses.
func servingPrimaries(snap *topo.Snapshot, keyspace string) (shards, addrs []string, err error) {
	srv := snap.Srv[keyspace]
	if srv == nil || len(srv.Partitions[topo.TabletPrimary]) == 0 {
		return nil, nil, fmt.Errorf("keyspace %q has no serving shards: %w", keyspace, ErrInvalid)
	}
	for _, name := range srv.Partitions[topo.TabletPrimary] {
		var sh *topo.Shard
		for _, s := range snap.Shards[keyspace] {
			if s.Name == name {
				sh = s
			}
		}
		if sh == nil || sh.PrimaryAlias == nil {
			return nil, nil, fmt.Errorf("shard %s/%s has no primary tablet: %w", keyspace, name, ErrInvalid)
		}
		addr := ""
		for _, t := range snap.Tablets {
			if t.Alias == *sh.PrimaryAlias {
				addr = t.Addr()
			}
		}
		if addr == "" {
			return nil, nil, fmt.Errorf("shard %s/%s: primary %s is not a tablet: %w", keyspace, name, sh.PrimaryAlias, ErrInvalid)
		}
		shards = append(shards, name)
		addrs = append(addrs, addr)
	}
	return shards, addrs, nil
}

// ruleKeys are the names a moved table is known by: in the source
// keyspace (if any), in the target keyspace, and bare.
func ruleKeys(sourceKeyspace, targetKeyspace, table string) []string {
	keys := []string{targetKeyspace + "." + table, table}
	if sourceKeyspace != "" {
		keys = append(keys, sourceKeyspace+"."+table)
	}
	return keys
}

// moveRules are a movetables workflow's routing rules: every name of each
// table goes to the source (to nowhere for an external one) with per10000
// of the sessions' plain reads on the target, or, once writes are
// switched, everything to the target.
func moveRules(w *topo.Workflow, sourceServes, writesSwitched bool, per10000 int) []*vschema.RoutingRule {
	mt := w.MoveTables
	var out []*vschema.RoutingRule
	for _, t := range mt.Tables {
		dst := w.Keyspace + "." + t
		to := ""
		if sourceServes {
			to = mt.SourceKeyspace + "." + t
		}
		if writesSwitched {
			to = dst
		}
		for _, from := range ruleKeys(mt.SourceKeyspace, w.Keyspace, t) {
			r := &vschema.RoutingRule{FromTable: from, ToTable: to, Workflow: w.Name}
			if !writesSwitched && per10000 > 0 {
				r.ReadTable, r.ReadPer10000 = dst, per10000
			}
			out = append(out, r)
		}
	}
	return out
}

// setMoveRules replaces w's routing rules.
func setMoveRules(ctx context.Context, store *topo.Store, w *topo.Workflow, rules []*vschema.RoutingRule) error {
	return store.UpdateRoutingRules(ctx, func(rr *vschema.RoutingRules) error {
		rr.Rules = append(withoutWorkflowRules(rr.Rules, w), rules...)
		return nil
	})
}

// removeMoveRules removes w's routing rules.
func removeMoveRules(ctx context.Context, store *topo.Store, w *topo.Workflow) error {
	return setMoveRules(ctx, store, w, nil)
}

// withoutWorkflowRules drops the rules w wrote for its tables.
func withoutWorkflowRules(rules []*vschema.RoutingRule, w *topo.Workflow) []*vschema.RoutingRule {
	var keep []*vschema.RoutingRule
	for _, r := range rules {
		if r.Workflow == w.Name && ruleOfTables(r, w) {
			continue
		}
		keep = append(keep, r)
	}
	return keep
}

func ruleOfTables(r *vschema.RoutingRule, w *topo.Workflow) bool {
	for _, t := range w.MoveTables.Tables {
		if slices.Contains(ruleKeys(w.MoveTables.SourceKeyspace, w.Keyspace, t), r.FromTable) {
			return true
		}
	}
	return false
}

// checkExternalSource checks that a source outside the topology can be
// copied and caught up from: MariaDB (GTID positions are MariaDB's),
// log_bin on, binlog_format ROW with full row images.
func checkExternalSource(ctx context.Context, login tablet.ConnConfig) error {
	conn, err := tablet.Dial(ctx, login)
	if err != nil {
		return fmt.Errorf("external source %s database %s: %w", login.Addr, login.DB, err)
	}
	defer conn.Close()
	res, err := conn.Execute(ctx, "SELECT @@version, @@log_bin, @@binlog_format, @@binlog_row_image")
	if err != nil {
		return fmt.Errorf("external source %s: %w", login.Addr, err)
	}
	row := res.Rows[0]
	var problems []string
	if !strings.Contains(strings.ToLower(string(row[0])), "mariadb") {
		problems = append(problems, fmt.Sprintf("version %s: only MariaDB sources are supported (catch-up reads MariaDB GTIDs)", row[0]))
	}
	if string(row[1]) != "1" {
		problems = append(problems, "log_bin is off: start it with log_bin")
	}
	if !strings.EqualFold(string(row[2]), "ROW") {
		problems = append(problems, fmt.Sprintf("binlog_format is %s: set binlog_format=ROW", row[2]))
	}
	if !strings.EqualFold(string(row[3]), "FULL") {
		problems = append(problems, fmt.Sprintf("binlog_row_image is %s: set binlog_row_image=FULL", row[3]))
	}
	if len(problems) > 0 {
		return fmt.Errorf("external source %s can't be moved from: %s: %w", login.Addr, strings.Join(problems, "; "), ErrInvalid)
	}
	return nil
}
