package gateway

import (
	"github.com/pingcap/tidb/pkg/parser/charset"
)

// backendCollation is what every shard connection uses (tablet.Connect).
const backendCollation = "utf8mb4_general_ci"

// applyClientCharset makes the collation a client names in its handshake
// (or COM_CHANGE_USER) the session's, as MySQL does: a client that logs in
// with latin1 sends latin1 and expects latin1 results, without a SET NAMES
// of its own (PyMySQL's charset=, the CLI's --default-character-set,
// go-sql-driver's collation=), and @@collation_connection names the
// collation it asked for. An id the gateway does not know is ignored; a
// collation only MySQL 8 has (ids from 248: utf8mb4_0900_*, gb18030) gives
// its character set with MariaDB's default collation.
func (s *session) applyClientCharset(collationID uint8) {
	c, err := charset.GetCollationByID(int(collationID))
	if err != nil || c.Name == backendCollation {
		s.settings.unset("names")
		return
	}
	assign := "NAMES " + c.CharsetName
	if collationID < 248 {
		assign += " COLLATE " + c.Name
	} else if c.CharsetName == charset.CharsetUTF8MB4 {
		s.settings.unset("names")
		return
	}
	s.settings.set(setting{key: "names", assign: assign, reset: "NAMES utf8mb4 COLLATE " + backendCollation})
}
