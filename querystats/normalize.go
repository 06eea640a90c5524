package querystats

import "strings"

// Normalize returns sql with every literal replaced by ?, as MySQL's
// statement digests do: quoted strings, numbers, hex and bit literals,
// and TRUE/FALSE/NULL are left alone (they are keywords). Runs of
// whitespace become one space, comments are dropped, and a parenthesised
// list of nothing but literals, (?, ?, ?), becomes (...), so IN lists of
// any length share one digest. Quoted identifiers (`x`) are kept.
//
// It is a lexer, not a parser, and never fails: text it does not
// understand is copied as it is, so a statement whose literals it cannot
// find is logged with them (it would have to be malformed to get there).
func Normalize(sql string) string {
	var b strings.Builder
	b.Grow(len(sql))
	space := false
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = true
			i++
			continue
		case c == '-' && i+2 < len(sql) && sql[i+1] == '-' && (sql[i+2] == ' ' || sql[i+2] == '\t'),
			c == '#':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			space = true
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 4
			}
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		switch {
		case c == '\'' || c == '"':
			i = skipQuoted(sql, i, c)
			b.WriteByte('?')
		case c == '`':
			j := skipQuoted(sql, i, c)
			b.WriteString(sql[i:j])
			i = j
		case (c == 'x' || c == 'X' || c == 'b' || c == 'B' || c == 'n' || c == 'N') && i+1 < len(sql) && sql[i+1] == '\'' && !identByte(prev(sql, i)):
			i = skipQuoted(sql, i+1, '\'')
			b.WriteByte('?')
		case c == '_' && !identByte(prev(sql, i)) && introducerFollows(sql, i):
			// _utf8mb4'x': the introducer goes with its literal.
			j := i + 1
			for j < len(sql) && identByte(sql[j]) {
				j++
			}
			i = skipQuoted(sql, j, '\'')
			b.WriteByte('?')
		case isDigit(c) && !identByte(prev(sql, i)),
			c == '.' && i+1 < len(sql) && isDigit(sql[i+1]) && !identByte(prev(sql, i)):
			j := i
			for j < len(sql) && (identByte(sql[j]) || sql[j] == '.' ||
				((sql[j] == '+' || sql[j] == '-') && (sql[j-1] == 'e' || sql[j-1] == 'E'))) {
				j++
			}
			i = j
			b.WriteByte('?')
		case identByte(c):
			j := i
			for j < len(sql) && identByte(sql[j]) {
				j++
			}
			b.WriteString(sql[i:j])
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return collapseLists(b.String())
}

// skipQuoted returns the index after the literal quoted by q that starts
// at sql[i], honouring doubled quotes and backslash escapes.
func skipQuoted(sql string, i int, q byte) int {
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

func introducerFollows(sql string, i int) bool {
	j := i + 1
	for j < len(sql) && identByte(sql[j]) {
		j++
	}
	return j > i+1 && j < len(sql) && sql[j] == '\''
}

func prev(sql string, i int) byte {
	if i == 0 {
		return ' '
	}
	return sql[i-1]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func identByte(c byte) bool {
	return c == '_' || c == '$' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

// collapseLists turns "(?, ?, ?)" (and "(?,?)") into "(...)".
func collapseLists(s string) string {
	if !strings.Contains(s, "?,") && !strings.Contains(s, "?, ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] == '(' {
			j, n := i+1, 0
			for j < len(s) {
				for j < len(s) && s[j] == ' ' {
					j++
				}
				if j >= len(s) || s[j] != '?' {
					break
				}
				j++
				n++
				for j < len(s) && s[j] == ' ' {
					j++
				}
				if j < len(s) && s[j] == ',' {
					j++
					continue
				}
				break
			}
			if n > 1 && j < len(s) && s[j] == ')' {
				b.WriteString("(...)")
				i = j + 1
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
