package gateway

import (
	"bytes"
	"net"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"
)

// changeUser answers COM_CHANGE_USER, which go-mysql does not dispatch:
//
//	user             string[NUL]
//	auth response    length [1] + bytes (CLIENT_SECURE_CONNECTION)
//	database         string[NUL]
//	charset          [2]          (optional)
//	auth plugin      string[NUL]  (CLIENT_PLUGIN_AUTH)
//	attributes                    (CLIENT_CONNECT_ATTRS, ignored)
//
// The password is checked with an mysql_native_password auth switch and a
// fresh salt (the client's first response was computed with the salt of
// the handshake, which go-mysql keeps to itself). On success the session
// is reset as for COM_RESET_CONNECTION, the database is the one named,
// and go-mysql sends the OK. A wrong password is ER_ACCESS_DENIED_ERROR
// and closes the connection, as MySQL does.
func (s *session) changeUser(data []byte) error {
	user, rest, ok := bytes.Cut(data, []byte{0})
	if !ok {
		return mysql.ErrMalformPacket
	}
	if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
		return mysql.ErrMalformPacket
	}
	rest = rest[1+int(rest[0]):]
	db, rest, _ := bytes.Cut(rest, []byte{0})

	password, known := s.srv.cfg.Users[string(user)]
	if err := s.switchAuthNative(string(user), known, password); err != nil {
		return err
	}
	s.reset()
	if len(rest) >= 2 {
		// charset [2]: the collation id, as in the handshake.
		s.applyClientCharset(rest[0])
	}
	s.keyspace, s.shard, s.tabletType = "", "", topo.TabletPrimary
	if len(db) > 0 {
		if err := s.UseDB(string(db)); err != nil {
			return err
		}
	}
	return nil
}

// switchAuthNative sends an auth switch request for mysql_native_password
// [0xfe] plugin name[NUL] salt[20][NUL] and checks the scramble the client
// answers with.
func (s *session) switchAuthNative(user string, known bool, password string) error {
	salt := mysql.RandomBuf(20)
	data := s.w.start()
	data = append(data, mysql.EOF_HEADER)
	data = append(data, mysql.AUTH_NATIVE_PASSWORD...)
	data = append(data, 0)
	data = append(data, salt...)
	data = append(data, 0)
	if err := s.w.write(data); err != nil {
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
