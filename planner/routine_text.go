package planner

import "strings"

// SplitRoutineDefinition finds, in text the parser refused, a statement
// that defines a stored routine — CREATE [OR REPLACE] [DEFINER = user]
// [AGGREGATE] PROCEDURE | FUNCTION | TRIGGER | EVENT — whose body (compound
// statements, SIGNAL, handlers...) only MariaDB parses in full. head is
// the statements before it (for the parser), routine the definition to
// the end of the text without a trailing semicolon: a body holds
// semicolons, so nothing after its start can be split off. ok is false
// when no statement of the text starts so.
//
// The scan skips strings, quoted names and comments as a lexer does, and
// reads executable comments (/*!50003 ... */, as mariadb-dump writes
// routines) as text.
func SplitRoutineDefinition(sql string, noBackslashEscapes bool) (head, routine string, ok bool) {
	sc := routineScanner{sql: sql, nbe: noBackslashEscapes}
	for start := 0; start < len(sql); {
		if sc.definesRoutine(start) {
			routine = strings.TrimRight(sql[start:], " \t\r\n;")
			return sql[:start], routine, true
		}
		end := sc.statementEnd(start)
		if end < 0 {
			return "", "", false
		}
		start = end + 1
	}
	return "", "", false
}

type routineScanner struct {
	sql string
	nbe bool
}

// statementEnd is the index of the semicolon ending the statement that
// starts at i, or -1.
func (sc *routineScanner) statementEnd(i int) int {
	for i < len(sc.sql) {
		switch c := sc.sql[i]; {
		case c == ';':
			return i
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sc.sql, i, sc.nbe)
		default:
			if j := sc.skipComment(i); j > i {
				i = j
			} else {
				i++
			}
		}
	}
	return -1
}

// skipComment returns where a comment (or an executable comment's
// marker, or its end) starting at i ends; i if none starts there.
func (sc *routineScanner) skipComment(i int) int {
	s := sc.sql
	switch {
	case strings.HasPrefix(s[i:], "/*!"):
		i += 3
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	case strings.HasPrefix(s[i:], "/*"):
		if j := strings.Index(s[i+2:], "*/"); j >= 0 {
			return i + 2 + j + 2
		}
		return len(s)
	case strings.HasPrefix(s[i:], "*/"):
		return i + 2
	case s[i] == '#' || strings.HasPrefix(s[i:], "-- ") || strings.HasPrefix(s[i:], "--\t") || strings.HasPrefix(s[i:], "--\n"):
		if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
			return i + j + 1
		}
		return len(s)
	}
	return i
}

// token returns the next token from i (a word, a quoted string or name,
// or one other byte) and where it ends; "" at the end of the text.
func (sc *routineScanner) token(i int) (string, int) {
	s := sc.sql
	for i < len(s) {
		if c := s[i]; c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			i++
			continue
		}
		if j := sc.skipComment(i); j > i {
			i = j
			continue
		}
		break
	}
	if i >= len(s) {
		return "", i
	}
	switch c := s[i]; {
	case c == '\'' || c == '"' || c == '`':
		j := skipQuoted(s, i, sc.nbe)
		return s[i:j], j
	case isWordByte(c):
		j := i + 1
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		return s[i:j], j
	}
	return s[i : i+1], i + 1
}

// definesRoutine tells whether the statement starting at i is a routine
// definition.
func (sc *routineScanner) definesRoutine(i int) bool {
	tok, i := sc.token(i)
	if !strings.EqualFold(tok, "CREATE") {
		return false
	}
	tok, i = sc.token(i)
	if strings.EqualFold(tok, "OR") {
		if tok, i = sc.token(i); !strings.EqualFold(tok, "REPLACE") {
			return false
		}
		tok, i = sc.token(i)
	}
	if strings.EqualFold(tok, "DEFINER") {
		// DEFINER = name@host | CURRENT_USER[()] | role: a few tokens up
		// to the routine's keyword.
		for n := 0; n < 8; n++ {
			tok, i = sc.token(i)
			if tok == "" || isRoutineKeyword(tok) || strings.EqualFold(tok, "AGGREGATE") {
				break
			}
		}
	}
	if strings.EqualFold(tok, "AGGREGATE") {
		tok, _ = sc.token(i)
	}
	return isRoutineKeyword(tok)
}

func isRoutineKeyword(tok string) bool {
	for _, k := range [...]string{"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"} {
		if strings.EqualFold(tok, k) {
			return true
		}
	}
	return false
}
