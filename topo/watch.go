package topo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// twopcDir is where package twopc keeps its decision records and its
// resolver's election (twopc.Config.Root is the topology's root).
func (s *Store) twopcDir() string { return s.root + "/twopc/" }

// Watch timing.
const (
	// watchDebounce is how long WatchSnapshots waits after a change before
	// reading a snapshot, so a burst of writes yields one snapshot.
	watchDebounce = 50 * time.Millisecond
	// watchRetryMin and watchRetryMax bound the wait before WatchSnapshots
	// retries after an error.
	watchRetryMin = 100 * time.Millisecond
	watchRetryMax = 5 * time.Second
)

// WatchSnapshots calls fn with a Snapshot at once and again after every
// change under the root (lock keys excepted), within watchDebounce of the
// change. It blocks until ctx is done and then returns ctx.Err(). Errors
// (etcd unreachable, a compacted watch, a lost leader) are logged and
// retried with backoff, starting over with a fresh snapshot, so no change
// is missed. Consecutive snapshots have increasing revisions.
//
// Goroutines: WatchSnapshots runs in the caller's goroutine and calls fn
// there, one call at a time, so a slow fn delays the next snapshot rather
// than queueing them. The etcd watch it opens is cancelled before it
// returns; it leaves no goroutine behind. Receivers share each Snapshot
// and must not change it.
func (s *Store) WatchSnapshots(ctx context.Context, fn func(*Snapshot)) error {
	w := &watcher{s: s, fn: fn}
	return s.retryWatch(ctx, "the topology", w.run)
}

// watcher is the state of one WatchSnapshots call.
type watcher struct {
	s    *Store
	fn   func(*Snapshot)
	last int64 // revision of the last snapshot delivered
}

// deliver reads a snapshot and hands it to fn if it is newer than the last.
func (w *watcher) deliver(ctx context.Context) error {
	snap, err := w.s.Snapshot(ctx)
	if err != nil {
		return err
	}
	if snap.Revision > w.last {
		w.last = snap.Revision
		w.fn(snap)
	}
	return nil
}

// run delivers a snapshot, then watches from its revision and delivers a
// new one after each change, until an error. delivered says whether it
// delivered at least once.
func (w *watcher) run(ctx context.Context) (delivered bool, err error) {
	if err := w.deliver(ctx); err != nil {
		return false, err
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := w.s.cli.Watch(wctx, w.s.root+"/", clientv3.WithPrefix(), clientv3.WithRev(w.last+1))

	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var fire <-chan time.Time // non-nil while a snapshot is due
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case resp, ok := <-wch:
			if !ok {
				return true, errors.New("topo: etcd watch closed")
			}
			if err := resp.Err(); err != nil {
				return true, fmt.Errorf("topo: etcd watch: %w", err)
			}
			for _, ev := range resp.Events {
				if fire == nil && ev.Kv.ModRevision > w.last && !w.s.notInSnapshot(string(ev.Kv.Key)) {
					timer = time.NewTimer(watchDebounce)
					fire = timer.C
				}
			}
		case <-fire:
			fire = nil
			if err := w.deliver(ctx); err != nil {
				return true, err
			}
		}
	}
}

// notInSnapshot says whether a key holds nothing a Snapshot reads, so its
// changes need no new snapshot: locks, and resharding workflows (whose
// copy progress is saved after every chunk) with their controller's
// election, tablet health (WatchTabletHealth has its own watch), and the
// hold/ack protocol's acknowledgements and gateway presence keys, users
// (WatchUsers), and two-phase commit's decision records and resolver
// election (package twopc, under the same root): a record is written and
// deleted by every distributed commit, and a snapshot for each cost every
// gateway an etcd read, a vschema compile and its whole plan cache (a
// plan is cached against the vschema it was planned with). Holds
// themselves do deliver one (see WatchHolds).
func (s *Store) notInSnapshot(key string) bool {
	return strings.HasPrefix(key, s.locksDir()) ||
		strings.HasPrefix(key, s.twopcDir()) ||
		strings.HasPrefix(key, s.healthDir()) ||
		strings.HasPrefix(key, s.holdAcksRoot()) || strings.HasPrefix(key, s.gatewaysDir()) ||
		strings.HasPrefix(key, s.workflowsDir()) ||
		strings.HasPrefix(key, s.usersDir()) ||
		strings.HasPrefix(key, s.ReshardElectionPrefix())
}
