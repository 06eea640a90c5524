package topo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// retryWatch runs once (one list-then-watch pass) again and again until
// ctx is done, then returns ctx.Err(). A pass that fails is logged and
// retried with backoff (watchRetryMin doubling up to watchRetryMax, back
// to watchRetryMin after a pass that delivered), so an etcd that is
// unreachable, compacted or leaderless for a while loses no change: each
// pass starts over from a fresh read. what names the watch in the log.
//
// Goroutines: it runs once in the caller's goroutine and starts none.
func (s *Store) retryWatch(ctx context.Context, what string, once func(context.Context) (delivered bool, err error)) error {
	wait := watchRetryMin
	for {
		delivered, err := once(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if delivered {
			wait = watchRetryMin
		}
		s.log.Warn("topo: watching "+what+" failed; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, watchRetryMax)
	}
}

// recordWatch watches the JSON records under one prefix (users, tablet
// health) and hands the whole set to a callback after every change, so a
// reader keeps an up-to-date copy without a Snapshot.
type recordWatch[T any] struct {
	prefix string
	// what names one record in errors and logs ("user", "tablet health").
	what string
	// sorted orders a delivered list (it may sort in place).
	sorted func([]*T) []*T
}

// watch calls fn with every record at once and again after each watch
// response (a batch of changes at a time), until ctx is done; it then
// returns ctx.Err(). Errors are retried as retryWatch says.
//
// Goroutines: it runs in the caller's goroutine and calls fn there, one
// call at a time; the etcd watch it opens is cancelled before it returns.
// fn owns each slice; the records in it are never changed afterwards.
func (w recordWatch[T]) watch(ctx context.Context, s *Store, fn func([]*T)) error {
	return s.retryWatch(ctx, w.what+" records", func(ctx context.Context) (bool, error) {
		return w.once(ctx, s, fn)
	})
}

// once lists the records, hands them to fn, then applies each watch
// response to its map (keyed by etcd key) and hands the new list over,
// until an error.
func (w recordWatch[T]) once(ctx context.Context, s *Store, fn func([]*T)) (delivered bool, err error) {
	resp, err := s.cli.Get(ctx, w.prefix, clientv3.WithPrefix())
	if err != nil {
		return false, fmt.Errorf("topo: list %s records: %w", w.what, err)
	}
	byKey := make(map[string]*T, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if err := w.apply(byKey, mvccpb.PUT, kv); err != nil {
			return false, err
		}
	}
	fn(w.list(byKey))
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := s.cli.Watch(wctx, w.prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case resp, ok := <-wch:
			if !ok {
				return true, fmt.Errorf("topo: etcd watch of %s records closed", w.what)
			}
			if err := resp.Err(); err != nil {
				return true, fmt.Errorf("topo: etcd watch of %s records: %w", w.what, err)
			}
			for _, ev := range resp.Events {
				if err := w.apply(byKey, ev.Type, ev.Kv); err != nil {
					return true, err
				}
			}
			fn(w.list(byKey))
		}
	}
}

// apply records one put or delete in byKey.
func (w recordWatch[T]) apply(byKey map[string]*T, typ mvccpb.Event_EventType, kv *mvccpb.KeyValue) error {
	if typ == mvccpb.DELETE {
		delete(byKey, string(kv.Key))
		return nil
	}
	v := new(T)
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return fmt.Errorf("topo: decode %s %s: %w", w.what, kv.Key, err)
	}
	byKey[string(kv.Key)] = v
	return nil
}

// list is byKey's records in a new slice, in w.sorted's order.
func (w recordWatch[T]) list(byKey map[string]*T) []*T {
	out := make([]*T, 0, len(byKey))
	for _, v := range byKey {
		out = append(out, v)
	}
	return w.sorted(out)
}
