package gateway

import (
	"context"
	"fmt"
	"sync"

	"github.com/shardgate/shardgate/topo"
)

// startUsersWatch follows the users stored in etcd when the topology
// store keeps them (UserWatcher), and waits for the first list, so a
// stored user can log in as soon as Start returns. Changes apply without
// a restart: to logins from then on, and to open sessions' next
// statement (grants). The watch goroutine is the server's (s.wg) and
// stops with s.ctx.
func (s *Server) startUsersWatch(ctx context.Context) error {
	w, ok := s.cfg.Topo.(UserWatcher)
	if !ok || s.cfg.InsecureNoAuth {
		return nil
	}
	first := make(chan struct{})
	var once sync.Once
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := w.WatchUsers(s.ctx, func(users []*topo.User) {
			s.auth.setUsers(users)
			once.Do(func() { close(first) })
		})
		if err != nil && s.ctx.Err() == nil {
			s.logger.Error("users watch stopped", "err", err)
		}
	}()
	wait, cancel := context.WithTimeout(ctx, s.cfg.TopoWait)
	defer cancel()
	select {
	case <-first:
		return nil
	case <-wait.Done():
		return fmt.Errorf("gateway: no users from the topology within %s: %w", s.cfg.TopoWait, wait.Err())
	}
}
