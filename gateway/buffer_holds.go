package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shardgate/shardgate/topo"
)

// HoldStore is what the gateway needs of the topology for the hold/ack
// protocol (topo/hold.go); *topo.Store has it. A TopoStore without it
// gets no holds, and the gateway buffers only while a shard names no
// serving primary.
type HoldStore interface {
	RegisterGateway(ctx context.Context, id string) (unregister func(context.Context) error, err error)
	WatchHolds(ctx context.Context, fn func(holds []*topo.Hold, rev int64)) error
	AckHold(ctx context.Context, holdID, gateway string) error
}

var _ HoldStore = (*topo.Store)(nil)

// holdDrainPoll is how often a gateway looks whether its statements in
// flight on a held shard have finished.
const holdDrainPoll = 5 * time.Millisecond

// defaultGatewayID names a gateway in etcd: host, pid and a random part,
// so two gateways of one process (tests) differ.
func defaultGatewayID() string {
	host, _ := os.Hostname()
	host = strings.NewReplacer("/", "_", " ", "_").Replace(host)
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// startHolds registers the gateway's presence and starts the hold watch
// (a goroutine of s.wg, ending with s.ctx); each new hold is
// acknowledged by a goroutine of its own, also of s.wg.
func (s *Server) startHolds(ctx context.Context) error {
	hs, ok := s.cfg.Topo.(HoldStore)
	if !ok {
		return nil
	}
	unregister, err := hs.RegisterGateway(ctx, s.cfg.GatewayID)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	s.leavePresence = unregister
	acked := map[string]bool{} // used by the watch goroutine only
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = hs.WatchHolds(s.ctx, func(holds []*topo.Hold, rev int64) {
			s.buffer.setHolds(holds, rev)
			present := map[string]bool{}
			for _, h := range holds {
				present[h.ID] = true
				if acked[h.ID] || !time.Now().Before(h.Deadline) {
					continue
				}
				acked[h.ID] = true
				s.logger.Info("gateway: hold placed; buffering its shards", "hold", h.ID, "keyspace", h.Keyspace, "shards", h.Shards, "reason", h.Reason)
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					s.ackHold(hs, h)
				}()
			}
			for id := range acked {
				if !present[id] {
					delete(acked, id)
				}
			}
		})
	}()
	return nil
}

// ackHold waits (at most h.Drain, and never past the hold's deadline) for
// the connections in use on the held shards' primaries to come back —
// statements and transactions in flight there — then acknowledges. New
// statements are already held (setHolds ran before), so the count only
// falls.
func (s *Server) ackHold(hs HoldStore, h *topo.Hold) {
	drainUntil := time.Now().Add(h.Drain)
	if h.Drain <= 0 || drainUntil.After(h.Deadline) {
		drainUntil = h.Deadline
	}
	for s.inUseOn(h) > 0 && time.Now().Before(drainUntil) {
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(holdDrainPoll):
		}
	}
	if n := s.inUseOn(h); n > 0 {
		s.logger.Warn("gateway: acknowledging a hold with connections still in use on its shards; they are cut when the primary changes",
			"hold", h.ID, "in_use", n)
	}
	ctx, cancel := context.WithDeadline(s.ctx, h.Deadline)
	defer cancel()
	if err := hs.AckHold(ctx, h.ID, s.cfg.GatewayID); err != nil && s.ctx.Err() == nil {
		s.logger.Warn("gateway: acknowledging a hold failed", "hold", h.ID, "err", err)
	}
}

// inUseOn counts the statements getting a connection to the primaries of
// the hold's shards and the connections handed out by their pools. The
// passing count is read first: a statement that stops passing has its
// connection counted in the pool by then.
func (s *Server) inUseOn(h *topo.Hold) int {
	n := 0
	for _, shard := range h.Shards {
		n += int(s.buffer.passingOn(shardKey{h.Keyspace, shard}).Load())
	}
	r := s.topo.current.Load()
	for _, shard := range h.Shards {
		if p := r.primaryPool(h.Keyspace, shard); p != nil {
			n += p.Stats().InUse
		}
	}
	return n
}
