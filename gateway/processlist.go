package gateway

import (
	"slices"
	"time"

	"github.com/shardgate/shardgate/engine"
)

// Processes lists the gateway's client sessions for SHOW PROCESSLIST, as
// MySQL lists its threads: a user with an admin grant sees every session,
// another user only their own.
func (vc *vcursor) Processes() []engine.ProcessInfo {
	me := vc.s
	srv := me.srv
	srv.mu.Lock()
	sessions := make([]*session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		sessions = append(sessions, s)
	}
	srv.mu.Unlock()
	slices.SortFunc(sessions, func(a, b *session) int { return int(a.id) - int(b.id) })
	now := time.Now()
	var out []engine.ProcessInfo
	admin := me.isAdmin("")
	for _, s := range sessions {
		p := s.process(now)
		if !admin && p.User != me.user {
			continue
		}
		out = append(out, p)
	}
	return out
}

// process is the session as another session's SHOW PROCESSLIST sees it:
// it reads only what statement.mu guards.
func (s *session) process(now time.Time) engine.ProcessInfo {
	st := &s.stmt
	st.mu.Lock()
	defer st.mu.Unlock()
	p := engine.ProcessInfo{ID: uint64(s.id), User: st.user, Host: s.host, DB: st.db, Command: "Sleep"}
	since := st.ended
	if st.running {
		p.Command, p.Info, since = "Query", st.sql, st.started
	}
	if !since.IsZero() {
		p.Seconds = uint64(now.Sub(since) / time.Second)
	}
	return p
}
