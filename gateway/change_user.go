package gateway

import (
	"net"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/wire"
)

// changeUser answers COM_CHANGE_USER (wire.ParseChangeUser), which
// go-mysql does not dispatch. The password is checked with an mysql_native_password auth switch and a
// fresh salt (the client's first response was computed with the salt of
// the handshake, which go-mysql keeps to itself). On success the session
// is reset as for COM_RESET_CONNECTION, the database is the one named,
// and go-mysql sends the OK. A wrong password is ER_ACCESS_DENIED_ERROR
// and closes the connection, as MySQL does.
func (s *session) changeUser(data []byte) error {
	cu, err := wire.ParseChangeUser(data)
	if err != nil {
		return err
	}
	password, known := s.srv.cfg.Users[cu.User]
	if err := s.switchAuthNative(cu.User, known, password); err != nil {
		return err
	}
	s.reset()
	s.user = cu.User // whose sessions KILL may end, what the hooks report
	if cu.HasCollation {
		s.applyClientCharset(cu.Collation)
	}
	s.keyspace, s.shard, s.tabletType = "", "", topo.TabletPrimary
	s.replicaReads = replicaFallback
	if cu.DB != "" {
		if err := s.UseDB(cu.DB); err != nil {
			return err
		}
	}
	return nil
}

// switchAuthNative sends an auth switch request for mysql_native_password
// with a fresh 20-byte salt and checks the scramble the client answers
// with.
func (s *session) switchAuthNative(user string, known bool, password string) error {
	salt := mysql.RandomBuf(20)
	if err := s.w.WriteAuthSwitch(mysql.AUTH_NATIVE_PASSWORD, salt); err != nil {
		return err
	}
	if err := s.flush(); err != nil {
		return err
	}
	reply, err := s.conn.ReadPacket()
	if err != nil {
		return err
	}
	good := known && (password == "" && len(reply) == 0 ||
		password != "" && mysql.CompareNativePassword(reply, mysql.NativePasswordHash([]byte(password)), salt))
	if good {
		return nil
	}
	host, _, _ := net.SplitHostPort(s.conn.RemoteAddr().String())
	using := "YES"
	if len(reply) == 0 {
		using = "NO"
	}
	s.closeAfterReply = true
	return sqlerror.New(sqlerror.User, mysql.ER_ACCESS_DENIED_ERROR, "Access denied for user '%s'@'%s' (using password: %s)", user, host, using)
}
