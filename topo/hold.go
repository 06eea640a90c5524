package topo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/sqlerror"
)

// The hold/ack protocol: how whoever changes a shard's primary (a planned
// reparent, next the resharding write switch) makes every gateway stop
// sending writes there first.
//
//  1. The holder writes a Hold (PlaceHold): "hold ks shards [-80]", with
//     an id and a deadline.
//  2. Every gateway watching holds (WatchHolds) buffers new statements for
//     those shards' primaries, waits (at most Hold.Drain) for the ones it
//     has in flight there to finish, then acknowledges (AckHold) with its
//     id, under the hold.
//  3. The holder waits for an acknowledgement from every live gateway
//     (AwaitAcks; a gateway is live while its presence key, written by
//     RegisterGateway under a lease, exists) or gives up at its deadline.
//  4. Whatever happened, the holder removes the hold (ReleaseHold): the
//     buffered statements go to whichever primary the topology then names
//     (the new one, or the old one after an abort).
//
// A hold past its deadline holds nothing: gateways ignore it, so a holder
// that dies cannot stall writes for longer than the deadline.

// Hold asks every gateway to hold statements for some shards' primaries.
type Hold struct {
	// ID names the hold; acknowledgements are filed under it.
	ID       string   `json:"id"`
	Keyspace string   `json:"keyspace"`
	Shards   []string `json:"shards"`
	// Reason says who holds and why ("planned reparent").
	Reason string `json:"reason,omitempty"`
	// Deadline: past it the hold holds nothing, whether released or not.
	Deadline time.Time `json:"deadline"`
	// Drain bounds how long a gateway waits for its statements and
	// transactions in flight on the shards before acknowledging anyway
	// (they are cut when the primary changes).
	Drain time.Duration `json:"drain_ns,omitempty"`
	// Reroute says the holder changes which shards serve the keyspace (a
	// resharding write switch), not just a shard's primary: gateways then
	// also hold the keyspace's statements before they pick their shards,
	// so that none is sent to a shard that stops serving (HoldsKeyspace).
	Reroute bool `json:"reroute,omitempty"`
}

// Holds reports whether the hold covers keyspace/shard at time now.
func (h *Hold) Holds(keyspace, shard string, now time.Time) bool {
	return h.Keyspace == keyspace && slices.Contains(h.Shards, shard) && now.Before(h.Deadline)
}

// HoldsKeyspace reports whether the hold reroutes keyspace at time now:
// statements for it wait before they resolve their shards.
func (h *Hold) HoldsKeyspace(keyspace string, now time.Time) bool {
	return h.Reroute && h.Keyspace == keyspace && now.Before(h.Deadline)
}

// ErrHoldNotAcknowledged: AwaitAcks reached the hold's deadline before
// every live gateway acknowledged. Unavailable: try again later.
var ErrHoldNotAcknowledged = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "topo: hold not acknowledged by every gateway")

func (s *Store) holdsDir() string             { return s.root + "/holds/" }
func (s *Store) holdKey(id string) string     { return s.holdsDir() + id }
func (s *Store) holdAcksDir(id string) string { return s.holdAcksRoot() + id + "/" }
func (s *Store) gatewaysDir() string          { return s.root + "/gateways/" }
func (s *Store) gatewayKey(id string) string  { return s.gatewaysDir() + id }
func (s *Store) holdAcksRoot() string         { return s.root + "/holdacks/" }

// checkHoldID checks a hold's or a gateway's id, a single key element.
func checkHoldID(what, id string) error {
	if id == "" || strings.ContainsAny(id, "/ ") {
		return fmt.Errorf("%s %q: want a non-empty name without '/' or spaces: %w", what, id, ErrInvalid)
	}
	return nil
}

// PlaceHold writes h; ErrNodeExists if a hold with its id exists.
func (s *Store) PlaceHold(ctx context.Context, h *Hold) error {
	if err := checkHoldID("hold id", h.ID); err != nil {
		return err
	}
	if h.Keyspace == "" || len(h.Shards) == 0 || h.Deadline.IsZero() {
		return fmt.Errorf("hold %s: want a keyspace, shards and a deadline: %w", h.ID, ErrInvalid)
	}
	data, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("topo: encode hold %s: %w", h.ID, err)
	}
	key := s.holdKey(h.ID)
	resp, err := s.cli.Txn(ctx).If(absent(key)).Then(clientv3.OpPut(key, string(data))).Commit()
	if err != nil {
		return fmt.Errorf("topo: place hold %s: %w", h.ID, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("hold %s: %w", h.ID, ErrNodeExists)
	}
	return nil
}

// ReleaseHold removes the hold and its acknowledgements; releasing a hold
// that is gone is not an error.
func (s *Store) ReleaseHold(ctx context.Context, id string) error {
	_, err := s.cli.Txn(ctx).Then(
		clientv3.OpDelete(s.holdKey(id)),
		clientv3.OpDelete(s.holdAcksDir(id), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return fmt.Errorf("topo: release hold %s: %w", id, err)
	}
	return nil
}

// ListHolds returns the holds in etcd, expired ones included.
func (s *Store) ListHolds(ctx context.Context) ([]*Hold, error) {
	return listJSON[Hold](ctx, s, s.holdsDir(), "hold")
}

// AckHold files gateway's acknowledgement of the hold.
func (s *Store) AckHold(ctx context.Context, holdID, gateway string) error {
	if err := checkHoldID("gateway id", gateway); err != nil {
		return err
	}
	// Only while the hold exists, so an ack arriving after the release
	// leaves nothing behind.
	resp, err := s.cli.Txn(ctx).If(present(s.holdKey(holdID))).
		Then(clientv3.OpPut(s.holdAcksDir(holdID)+gateway, time.Now().UTC().Format(time.RFC3339Nano))).Commit()
	if err != nil {
		return fmt.Errorf("topo: acknowledge hold %s: %w", holdID, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("hold %s: %w", holdID, ErrNoNode)
	}
	return nil
}

// AwaitAcks waits until every live gateway has acknowledged the hold, and
// returns the gateways that did. At the hold's deadline, or ctx's, it
// returns an error wrapping ErrHoldNotAcknowledged that names the
// gateways still missing (ctx's error if ctx is cancelled). It does not release the hold.
func (s *Store) AwaitAcks(ctx context.Context, h *Hold) ([]string, error) {
	ctx, cancel := context.WithDeadline(ctx, h.Deadline)
	defer cancel()
	acksDir := s.holdAcksDir(h.ID)
	for {
		resp, err := s.cli.Txn(ctx).Then(
			clientv3.OpGet(s.gatewaysDir(), clientv3.WithPrefix(), clientv3.WithKeysOnly()),
			clientv3.OpGet(acksDir, clientv3.WithPrefix(), clientv3.WithKeysOnly()),
		).Commit()
		if err != nil {
			return nil, s.awaitErr(ctx, h, nil, err)
		}
		live := keyNames(resp.Responses[0].GetResponseRange().Kvs, s.gatewaysDir())
		acked := keyNames(resp.Responses[1].GetResponseRange().Kvs, acksDir)
		var missing []string
		for _, g := range live {
			if !slices.Contains(acked, g) {
				missing = append(missing, g)
			}
		}
		if len(missing) == 0 {
			return acked, nil
		}
		// Wait for a change to the acknowledgements or to the live
		// gateways (one that dies stops being waited for), from the
		// revision read.
		wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		rev := clientv3.WithRev(resp.Header.Revision + 1)
		acks := s.cli.Watch(wctx, acksDir, clientv3.WithPrefix(), rev)
		gws := s.cli.Watch(wctx, s.gatewaysDir(), clientv3.WithPrefix(), rev)
		select {
		case <-acks:
		case <-gws:
		case <-ctx.Done():
		}
		wcancel()
		if ctx.Err() != nil {
			return nil, s.awaitErr(ctx, h, missing, ctx.Err())
		}
	}
}

func (s *Store) awaitErr(ctx context.Context, h *Hold, missing []string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("hold %s of %s %v: no acknowledgement from gateways %v in time: %w",
			h.ID, h.Keyspace, h.Shards, missing, ErrHoldNotAcknowledged)
	}
	return fmt.Errorf("topo: await acknowledgements of hold %s (missing %v): %w", h.ID, missing, err)
}

// keyNames returns the last path element of each key, under prefix.
func keyNames(kvs []*mvccpb.KeyValue, prefix string) []string {
	out := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		name := strings.TrimPrefix(string(kv.Key), prefix)
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name = name[:i]
		}
		out = append(out, name)
	}
	return out
}

// RegisterGateway writes the presence key of a gateway, tied to a lease
// that the etcd client keeps alive until unregister is called; if the
// process dies instead, the key goes when the lease expires (lockTTL
// seconds), and holds stop waiting for that gateway. ErrNodeExists if a
// live gateway has that id.
func (s *Store) RegisterGateway(ctx context.Context, id string) (unregister func(context.Context) error, err error) {
	if err := checkHoldID("gateway id", id); err != nil {
		return nil, err
	}
	lease, err := s.cli.Grant(ctx, lockTTL)
	if err != nil {
		return nil, fmt.Errorf("topo: register gateway %s: grant lease: %w", id, err)
	}
	key := s.gatewayKey(id)
	resp, err := s.cli.Txn(ctx).If(absent(key)).
		Then(clientv3.OpPut(key, time.Now().UTC().Format(time.RFC3339Nano), clientv3.WithLease(lease.ID))).Commit()
	if err == nil && !resp.Succeeded {
		err = fmt.Errorf("gateway %s: %w", id, ErrNodeExists)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("topo: register gateway %s: %w", id, err), s.revoke(lease.ID))
	}
	// The keep-alive runs under a context of its own, ended by unregister.
	kaCtx, stop := context.WithCancel(context.Background())
	ka, err := s.cli.KeepAlive(kaCtx, lease.ID)
	if err != nil {
		stop()
		return nil, errors.Join(fmt.Errorf("topo: register gateway %s: keep alive: %w", id, err), s.revoke(lease.ID))
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range ka {
		}
	}()
	return func(ctx context.Context) error {
		stop()
		<-drained
		if _, err := s.cli.Revoke(ctx, lease.ID); err != nil {
			return fmt.Errorf("topo: unregister gateway %s: %w", id, err)
		}
		return nil
	}, nil
}

// ListGateways returns the ids of the live gateways.
func (s *Store) ListGateways(ctx context.Context) ([]string, error) {
	resp, err := s.cli.Get(ctx, s.gatewaysDir(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("topo: list gateways: %w", err)
	}
	return keyNames(resp.Kvs, s.gatewaysDir()), nil
}

// WatchHolds calls fn with the holds in etcd, and the etcd revision they
// were read at, at once and again after every change to them, until ctx
// is done; it then returns ctx.Err(). Errors are logged and retried as
// WatchSnapshots does. fn runs on the caller's goroutine, one call at a
// time; expired holds are included (the receiver compares deadlines with
// its clock).
//
// Hold changes also deliver a new Snapshot to WatchSnapshots, so a
// gateway that sees a hold released at revision R can wait for a routing
// snapshot of revision >= R, which has whatever primary the holder named
// before releasing.
func (s *Store) WatchHolds(ctx context.Context, fn func(holds []*Hold, rev int64)) error {
	wait := watchRetryMin
	for {
		err := s.watchHoldsOnce(ctx, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("topo: watching holds failed; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, watchRetryMax)
	}
}

func (s *Store) watchHoldsOnce(ctx context.Context, fn func([]*Hold, int64)) error {
	resp, err := s.cli.Get(ctx, s.holdsDir(), clientv3.WithPrefix())
	if err != nil {
		return err
	}
	holds, err := decodeAll[Hold](resp.Kvs, "hold")
	if err != nil {
		return err
	}
	fn(holds, resp.Header.Revision)
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := s.cli.Watch(wctx, s.holdsDir(), clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case wr, ok := <-wch:
			if !ok {
				return errors.New("topo: etcd watch of holds closed")
			}
			if err := wr.Err(); err != nil {
				return fmt.Errorf("topo: etcd watch of holds: %w", err)
			}
			resp, err := s.cli.Get(ctx, s.holdsDir(), clientv3.WithPrefix())
			if err != nil {
				return err
			}
			holds, err := decodeAll[Hold](resp.Kvs, "hold")
			if err != nil {
				return err
			}
			fn(holds, resp.Header.Revision)
		}
	}
}
