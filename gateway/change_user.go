package gateway

import (
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/wire"
)

// changeUser answers COM_CHANGE_USER (wire.ParseChangeUser), which
// go-mysql does not dispatch. The new user logs in as at the handshake
// (authHandler.verify): an auth switch to the user's method with a fresh
// salt (the client's first response was computed with the salt of the
// handshake), the same checks, the same 1045 for a wrong password and an
// unknown user, and the per-user connection limit (1203). On success the
// session is reset as for COM_RESET_CONNECTION, with the new user's
// grants, the database is the one named, and go-mysql sends the OK. A
// failure closes the connection, as MySQL does.
func (s *session) changeUser(data []byte) error {
	cu, err := wire.ParseChangeUser(data)
	if err != nil {
		return err
	}
	h := s.srv.auth
	acct := h.account(cu.User)
	x := &authExchange{w: wire.Writer{Conn: s.conn}, read: s.conn.ReadPacket, flush: s.flush, tls: s.tls}
	ok, used, err := h.verify(x, acct, cu.User, nil, "", nil, false)
	if err != nil {
		return err
	}
	host := hostOf(s.conn.RemoteAddr())
	if !ok {
		s.closeAfterReply = true
		if h.limiter != nil {
			h.limiter.loginFailed(host)
		}
		return errAccessDenied(cu.User, host, used)
	}
	if err := s.recountUser(cu.User); err != nil {
		s.closeAfterReply = true
		return err
	}
	s.reset()
	if cu.HasCollation {
		s.applyClientCharset(cu.Collation)
	}
	s.keyspace, s.shard, s.tabletType = "", "", topo.TabletPrimary
	s.replicaReads = replicaFallback
	s.pendingDB = &cu.DB
	// Whose sessions KILL may end, what the hooks report, the grants.
	return s.loggedIn(cu.User, acct, s.tls)
}

// recountUser moves the session's login, counted against the per-user
// connection limit, to user: refused with 1203 when user is at its limit.
func (s *session) recountUser(user string) error {
	l := s.srv.limiter
	if l == nil || s.pre == nil {
		return nil
	}
	if err := l.addUser(user); err != nil {
		return err
	}
	if s.pre.user != nil {
		l.removeUser(*s.pre.user)
	}
	s.pre.user = &user
	return nil
}
