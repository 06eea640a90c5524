package reshard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/topo"
)

// ParsePercent reads `--percent P`: 0 (take the reads back), or 0.01 to
// 100 with at most two decimals. It returns the share in
// 1/topo.ReadSwitchScale.
func ParsePercent(s string) (int, error) {
	bad := func() (int, error) {
		return 0, fmt.Errorf("--percent %q: want 0, or 0.01 to 100 in steps of 0.01: %w", s, ErrInvalid)
	}
	whole, frac, dotted := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(frac) > 2 || (dotted && frac == "") {
		return bad()
	}
	for _, part := range []string{whole, frac} {
		if strings.IndexFunc(part, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return bad()
		}
	}
	w, err := strconv.Atoi(whole)
	if err != nil || w > 100 {
		return bad()
	}
	f := 0
	if frac != "" {
		f, _ = strconv.Atoi(frac)
		if len(frac) == 1 {
			f *= 10
		}
	}
	n := w*100 + f
	if n > topo.ReadSwitchScale {
		return bad()
	}
	return n, nil
}

// SwitchReads sends per10000/topo.ReadSwitchScale of the keyspace's
// sessions' reads outside transactions to the workflow's targets (0 takes
// them back): it writes the serving graph's read switch, which every
// gateway applies within a second, then the workflow's read share and
// state (reads-switched at 100%, running otherwise). Only a reshard
// workflow in state running or reads-switched can switch reads; the
// targets read together with the serving shards the workflow doesn't
// replace.
func SwitchReads(ctx context.Context, store *topo.Store, keyspace, workflow string, per10000 int) (*topo.Workflow, error) {
	if per10000 < 0 || per10000 > topo.ReadSwitchScale {
		return nil, fmt.Errorf("read share %d/%d: %w", per10000, topo.ReadSwitchScale, ErrInvalid)
	}
	w, err := store.GetWorkflow(ctx, keyspace, workflow)
	if err != nil {
		return nil, err
	}
	if err := canSwitchReads(w); err != nil {
		return nil, err
	}
	if w.MoveTables != nil {
		return switchMovedReads(ctx, store, w, per10000)
	}
	srv, err := store.GetSrvKeyspace(ctx, keyspace)
	if err != nil {
		return nil, err
	}
	if rs := srv.ReadSwitch; rs != nil && rs.Workflow != workflow {
		return nil, fmt.Errorf("keyspace %s: workflow %s has switched reads; take them back first (--percent 0): %w", keyspace, rs.Workflow, ErrInvalid)
	}
	var rs *topo.ReadSwitch
	if per10000 > 0 {
		rs = &topo.ReadSwitch{Workflow: workflow, Shards: readShards(srv, w), Per10000: per10000}
		for _, name := range w.TargetShards {
			sh, err := store.GetShard(ctx, keyspace, name)
			if err != nil {
				return nil, fmt.Errorf("target shard: %w", err)
			}
			if sh.PrimaryAlias == nil {
				return nil, fmt.Errorf("target shard %s/%s has no primary tablet to read from: %w", keyspace, name, ErrInvalid)
			}
		}
	}
	if err := store.SetReadSwitch(ctx, keyspace, rs); err != nil {
		return nil, err
	}
	err = store.UpdateWorkflow(ctx, keyspace, workflow, func(w *topo.Workflow) error {
		if err := canSwitchReads(w); err != nil {
			return err
		}
		w.ReadPer10000 = per10000
		w.State = topo.WorkflowRunning
		if per10000 == topo.ReadSwitchScale {
			w.State = topo.WorkflowReadsSwitched
		}
		return nil
	})
	if err != nil {
		// The workflow moved on since the check (a cancel): don't leave it
		// a read switch.
		if cur, gerr := store.GetWorkflow(ctx, keyspace, workflow); gerr == nil && canSwitchReads(cur) != nil {
			if cerr := clearReadSwitch(ctx, store, keyspace, workflow); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
		return nil, err
	}
	return store.GetWorkflow(ctx, keyspace, workflow)
}

// clearReadSwitch removes the keyspace's read switch if workflow set it.
func clearReadSwitch(ctx context.Context, store *topo.Store, keyspace, workflow string) error {
	_, err := clearReadSwitchOwned(ctx, store, keyspace, workflow)
	return err
}

// clearReadSwitchOwned is clearReadSwitch, saying whether there was one
// to remove.
func clearReadSwitchOwned(ctx context.Context, store *topo.Store, keyspace, workflow string) (bool, error) {
	srv, err := store.GetSrvKeyspace(ctx, keyspace)
	if err != nil {
		return false, err
	}
	if rs := srv.ReadSwitch; rs == nil || rs.Workflow != workflow {
		return false, nil
	}
	return true, store.SetReadSwitch(ctx, keyspace, nil)
}

func canSwitchReads(w *topo.Workflow) error {
	if w.MoveTables != nil && w.MoveTables.ReverseOf != "" {
		return fmt.Errorf("workflow %s/%s replicates %s back to its source; switch traffic with %s: %w", w.Keyspace, w.Name, w.MoveTables.ReverseOf, w.MoveTables.ReverseOf, ErrInvalid)
	}
	if w.State != topo.WorkflowRunning && w.State != topo.WorkflowReadsSwitched {
		return fmt.Errorf("workflow %s/%s is in state %s: reads switch in state running or reads-switched: %w", w.Keyspace, w.Name, w.State, ErrInvalid)
	}
	return nil
}

// readShards is the shard set reads switch to: the serving shards with
// the workflow's sources replaced by its targets, in key order.
func readShards(srv *topo.SrvKeyspace, w *topo.Workflow) []string {
	var names []string
	for _, s := range srv.Partitions[topo.TabletPrimary] {
		if !slices.Contains(w.SourceShards, s) {
			names = append(names, s)
		}
	}
	return sortedShards(append(names, w.TargetShards...))
}
