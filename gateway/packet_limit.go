package gateway

import (
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/wire"
)

// DefaultMaxAllowedPacket is Config.MaxAllowedPacket when it is not set:
// MySQL 8's default, and what localcluster gives the shards.
const DefaultMaxAllowedPacket = wire.DefaultMaxAllowedPacket

// tooLarge is the error for a statement over max_allowed_packet, checked
// before the gateway parses it (the parser would otherwise spend time and
// memory on it before a shard refuses it). Unlike MySQL, the gateway
// keeps the connection open.
func (s *session) tooLarge(size int) error {
	max := s.srv.cfg.MaxAllowedPacket
	if max <= 0 {
		max = DefaultMaxAllowedPacket
	}
	if size <= max {
		return nil
	}
	return errPacketTooLarge()
}

// errPacketTooLarge is ER_NET_PACKET_TOO_LARGE with MySQL's own message.
func errPacketTooLarge() error {
	return sqlerror.New(sqlerror.User, mysql.ER_NET_PACKET_TOO_LARGE, "%s", mysql.MySQLErrName[mysql.ER_NET_PACKET_TOO_LARGE])
}
