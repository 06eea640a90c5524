package topo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"go.etcd.io/etcd/client/v3/concurrency"
)

// lockTTL is how long, in seconds, a lock outlives a holder that died
// without unlocking.
const lockTTL = 15

// Lock takes the named lock, an etcd mutex for operator actions, waiting
// until it is free or ctx is done. Any non-empty name works; names are
// independent ("ks" doesn't cover "ks/-80").
//
// The lock is tied to an etcd lease that a goroutine of the etcd client
// keeps alive until unlock is called; if the process dies instead, the
// lease expires after lockTTL seconds and frees the lock. Call unlock once;
// later calls do nothing and return nil.
func (s *Store) Lock(ctx context.Context, name string) (unlock func(context.Context) error, err error) {
	if name == "" {
		return nil, fmt.Errorf("lock name is empty: %w", ErrInvalid)
	}
	// Grant the lease here, under ctx; the session's keep-alive then runs
	// under the client's context, independent of ctx.
	lease, err := s.cli.Grant(ctx, lockTTL)
	if err != nil {
		return nil, fmt.Errorf("topo: lock %q: grant lease: %w", name, err)
	}
	sess, err := concurrency.NewSession(s.cli, concurrency.WithLease(lease.ID), concurrency.WithTTL(lockTTL))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("topo: lock %q: %w", name, err), s.revoke(lease.ID))
	}
	m := concurrency.NewMutex(sess, s.locksDir()+url.PathEscape(name))
	if err := m.Lock(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("topo: lock %q: %w", name, err), sess.Close())
	}
	var once sync.Once
	return func(ctx context.Context) error {
		err := error(nil)
		once.Do(func() {
			if uerr := m.Unlock(ctx); uerr != nil {
				err = fmt.Errorf("topo: unlock %q: %w", name, uerr)
			}
			// Closing the session revokes the lease, which frees the lock
			// even if Unlock failed.
			if cerr := sess.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("topo: unlock %q: close session: %w", name, cerr))
			}
		})
		return err
	}, nil
}

func (s *Store) revoke(id clientv3.LeaseID) error {
	ctx, cancel := context.WithTimeout(context.Background(), lockTTL*time.Second)
	defer cancel()
	_, err := s.cli.Revoke(ctx, id)
	return err
}
