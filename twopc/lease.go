package twopc

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// A coordinator's lease is what tells resolvers it is alive: a prepared
// branch whose DTID names a lease that is gone is rolled back. etcd can
// lose the lease while the process lives (keep-alives late by more than
// the TTL: a loaded machine, an etcd election); the session then never
// recovers, and every transaction named after it would be rolled back
// under its coordinator. So each new DTID takes a live lease, granting a
// new one when the old is lost. Transactions named after the lost lease
// may be rolled back by a resolver; their coordinator then finds the
// rollback standing at its decision and answers 1402, as for any
// resolver that decided first.

func (c *Coordinator) newSession() (*concurrency.Session, error) {
	sess, err := concurrency.NewSession(c.cfg.Client, concurrency.WithTTL(c.cfg.LeaseTTL), concurrency.WithContext(c.ctx))
	if err != nil {
		return nil, fmt.Errorf("twopc: coordinator lease: %w", err)
	}
	return sess, nil
}

// lease is the coordinator's live lease, renewed first if it was lost.
// If etcd can't grant a new one, the old one is returned: the decision
// records can't be written then either.
func (c *Coordinator) lease() clientv3.LeaseID {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.session.Done():
	default:
		return c.session.Lease()
	}
	sess, err := c.newSession()
	if err != nil {
		c.log.Error("twopc: coordinator lease lost and not renewed", "lease", c.session.Lease(), "err", err)
		return c.session.Lease()
	}
	c.log.Warn("twopc: coordinator lease lost; granted a new one", "old", c.session.Lease(), "new", sess.Lease())
	_ = c.session.Close() // its lease is gone: nothing to revoke
	c.session = sess
	return sess.Lease()
}
