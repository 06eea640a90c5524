package gateway

import (
	"github.com/pingcap/tidb/pkg/parser/charset"
)

// applyClientCharset makes the character set a client names in its
// handshake (or COM_CHANGE_USER) the session's, as MySQL does: a client
// that logs in with latin1 sends latin1 and expects latin1 results, without
// a SET NAMES of its own (PyMySQL's charset=, the CLI's
// --default-character-set). Any utf8mb4 collation is what the shard
// connections already use; an id the gateway does not know is ignored.
// The collation itself is not passed on (MariaDB and MySQL number some
// collations differently); the charset's default collation applies.
func (s *session) applyClientCharset(collationID uint8) {
	c, err := charset.GetCollationByID(int(collationID))
	if err != nil || c.CharsetName == charset.CharsetUTF8MB4 {
		s.settings.unset("names")
		return
	}
	s.settings.set(setting{key: "names", assign: "NAMES " + c.CharsetName, reset: "NAMES utf8mb4"})
}
