package gateway

import (
	"strings"
)

// sql_mode NO_BACKSLASH_ESCAPES, where a backslash in a string literal is
// an ordinary character. The gateway parses a session's text in the
// session's mode, but its shard connections never take the mode: every
// string the gateway renders for a shard (literals, bound values) is
// escaped the default way, and a statement it would send as the client
// wrote it is rendered instead when its text holds a backslash (planner
// Target.NoBackslashEscapes). The plan cache, whose lexer reads the
// default way, leaves such statements alone. Clients see the mode in the
// status flags and in what SET wrote; @@sql_mode read from a shard lacks
// it.

// setNoBackslashEscapes switches the session's parser and flag.
func (s *session) setNoBackslashEscapes(on bool) {
	if s.noBackslashEscapes == on {
		return
	}
	s.noBackslashEscapes = on
	s.parser.SetNoBackslashEscapes(on)
}

// readsBackslashesAsText reports a statement the plan cache must not
// serve: a backslash in it means something else under the session's
// NO_BACKSLASH_ESCAPES than its lexer thinks.
func (s *session) readsBackslashesAsText(sql string) bool {
	return s.noBackslashEscapes && strings.IndexByte(sql, '\\') >= 0
}

// withoutNoBackslashEscapes takes NO_BACKSLASH_ESCAPES out of a sql_mode
// assignment as the planner renders it (@@SESSION.`sql_mode`='A,B'),
// reporting whether it was there.
func withoutNoBackslashEscapes(assign string) (string, bool) {
	eq := strings.IndexByte(assign, '=')
	if eq < 0 {
		return assign, false
	}
	value := strings.TrimSpace(assign[eq+1:])
	if len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
		return assign, false
	}
	var kept []string
	found := false
	for _, m := range strings.Split(value[1:len(value)-1], ",") {
		if strings.EqualFold(strings.TrimSpace(m), "NO_BACKSLASH_ESCAPES") {
			found = true
			continue
		}
		kept = append(kept, m)
	}
	if !found {
		return assign, false
	}
	return assign[:eq+1] + "'" + strings.Join(kept, ",") + "'", true
}
