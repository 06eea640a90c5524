package topo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TabletHealth is what the failover controller last saw of a tablet's
// MySQL instance. The controller writes it under health/{alias} when it
// changes (and refreshes it now and then, so readers can tell a record
// nobody keeps up any more); gateways watch that prefix to choose the
// replicas they read from. It is not part of a Snapshot: lag moves every
// second on a lagging replica, and routing snapshots would be rebuilt
// with it.
type TabletHealth struct {
	Alias TabletAlias `json:"alias"`
	// Reachable: the instance accepted a login and answered the check.
	Reachable bool `json:"reachable"`
	// Error says why the check failed when it did.
	Error string `json:"error,omitempty"`
	// ReadOnly is @@global.read_only.
	ReadOnly bool `json:"read_only"`
	// Replicating: the instance is configured as a replica (SHOW SLAVE
	// STATUS has a row); IORunning and SQLRunning are its two threads.
	Replicating bool `json:"replicating"`
	IORunning   bool `json:"io_running"`
	SQLRunning  bool `json:"sql_running"`
	// LagSeconds is Seconds_Behind_Master; nil when MariaDB reports NULL
	// (a thread stopped, not connected) or the instance is no replica.
	LagSeconds *int64 `json:"lag_seconds,omitempty"`
	// GTIDPosition is @@global.gtid_current_pos.
	GTIDPosition string `json:"gtid_position,omitempty"`
	// CheckedAt is when the check that produced the record ran.
	CheckedAt time.Time `json:"checked_at"`
}

// ReplicaProblem says why the tablet, as a replica, must not serve reads
// under a lag limit: unreachable, replication stopped or not configured,
// lag unknown or over the limit. "" means it may serve.
func (h *TabletHealth) ReplicaProblem(lagLimit time.Duration) string {
	switch {
	case !h.Reachable:
		return "unreachable"
	case !h.Replicating:
		return "not replicating"
	case !h.SQLRunning && !h.IORunning:
		return "replication stopped"
	case !h.SQLRunning:
		return "replication SQL thread stopped"
	case !h.IORunning:
		return "replication IO thread stopped"
	case h.LagSeconds == nil:
		return "lag unknown"
	case time.Duration(*h.LagSeconds)*time.Second > lagLimit:
		return fmt.Sprintf("lag %ds over the %s limit", *h.LagSeconds, lagLimit)
	}
	return ""
}

// Replication describes the replication threads in a word or two, as
// SHOW VITESS_TABLETS and shardctl show them.
func (h *TabletHealth) Replication() string {
	switch {
	case !h.Replicating:
		return "none"
	case h.IORunning && h.SQLRunning:
		return "running"
	case h.IORunning:
		return "sql stopped"
	case h.SQLRunning:
		return "io stopped"
	}
	return "stopped"
}

func (s *Store) healthDir() string              { return s.root + "/health/" }
func (s *Store) healthKey(a TabletAlias) string { return s.healthDir() + a.String() }

// SaveTabletHealth writes a tablet's health record, replacing the last.
func (s *Store) SaveTabletHealth(ctx context.Context, h *TabletHealth) error {
	data, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("topo: encode health of %s: %w", h.Alias, err)
	}
	if _, err := s.cli.Put(ctx, s.healthKey(h.Alias), string(data)); err != nil {
		return fmt.Errorf("topo: save health of %s: %w", h.Alias, err)
	}
	return nil
}

// DeleteTabletHealth removes a tablet's health record (the tablet left
// the topology); a missing record is no error.
func (s *Store) DeleteTabletHealth(ctx context.Context, alias TabletAlias) error {
	if _, err := s.cli.Delete(ctx, s.healthKey(alias)); err != nil {
		return fmt.Errorf("topo: delete health of %s: %w", alias, err)
	}
	return nil
}

// ListTabletHealth returns every health record, ordered by alias.
func (s *Store) ListTabletHealth(ctx context.Context) ([]*TabletHealth, error) {
	list, _, err := s.listHealth(ctx)
	return list, err
}

func (s *Store) listHealth(ctx context.Context) ([]*TabletHealth, int64, error) {
	resp, err := s.cli.Get(ctx, s.healthDir(), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("topo: list tablet health: %w", err)
	}
	list, err := decodeAll[TabletHealth](resp.Kvs, "tablet health")
	if err != nil {
		return nil, 0, err
	}
	return sortedHealth(list), resp.Header.Revision, nil
}

func sortedHealth(list []*TabletHealth) []*TabletHealth {
	slices.SortFunc(list, func(a, b *TabletHealth) int {
		if c := strings.Compare(a.Alias.Cell, b.Alias.Cell); c != 0 {
			return c
		}
		return int(int64(a.Alias.UID) - int64(b.Alias.UID))
	})
	return list
}

// WatchTabletHealth calls fn with every health record at once and again
// after each change (a batch of changes at a time), until ctx is done; it
// then returns ctx.Err(). Errors are logged and retried with backoff,
// starting over from a fresh list, as WatchSnapshots does.
//
// Goroutines: it runs in the caller's goroutine and calls fn there; the
// etcd watch it opens is cancelled before it returns. fn owns the slice
// it gets; the records in it are never changed afterwards (treat them as
// read-only).
func (s *Store) WatchTabletHealth(ctx context.Context, fn func([]*TabletHealth)) error {
	return recordWatch[TabletHealth]{prefix: s.healthDir(), what: "tablet health", sorted: sortedHealth}.watch(ctx, s, fn)
}
