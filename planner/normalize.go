package planner

import (
	"strconv"
	"strings"
)

// AppendNormalized is the plan cache's normaliser: it appends sql to dst
// with the literals that are plain values (integers and single-quoted
// strings in comparisons, IN lists, BETWEEN, VALUES rows and LIMIT)
// replaced by ? markers, and appends those literals to args in order, as
// int64 (uint64 above MaxInt64) or string. A plan built from the result
// runs with the returned args and sends the shards the same values.
//
// It is a lexer, not a parser: it never needs the TiDB parser, so a plan
// cache hit costs one pass over the text. ok is false when the statement
// is not one it normalises: not a SELECT/INSERT/REPLACE/UPDATE/DELETE,
// several statements, comments (hints and executable comments change
// meaning), ? markers already present, or text it does not understand.
// When unsure it leaves a literal as it is: ORDER BY / GROUP BY items
// (ordinals), the select list (column names come from the text), function
// arguments, INTERVAL amounts, numbers with a fraction, exponent or radix,
// and introducers (_utf8mb4'x', x'ff', N'x').
func AppendNormalized(dst []byte, sql string, args []any) (out []byte, outArgs []any, ok bool) {
	n := normalizer{sql: sql, dst: dst, args: args}
	if !n.run() {
		return dst, args, false
	}
	return n.dst, n.args, true
}

type tokKind uint8

const (
	tokNone  tokKind = iota
	tokWord          // keyword or unquoted identifier
	tokOp            // comparison operator
	tokPunct         // ( ) , . and other operators
	tokValue         // a literal or quoted name that is left alone
)

// parenKind says what a parenthesis level holds.
type parenKind uint8

const (
	parenOther  parenKind = iota
	parenIn               // IN ( ... ): a value list
	parenValues           // a VALUES row
)

// level is the lexer's state for one parenthesis depth.
type level struct {
	kind       parenKind
	selectList bool // between SELECT and FROM
	orderBy    bool // in ORDER BY / GROUP BY items
	limit      bool // in a LIMIT clause
	values     bool // after VALUES (INSERT/REPLACE rows)
	between    bool // after BETWEEN, before its AND
	afterAnd   bool // the token before was the AND of a BETWEEN
	// inColumn: inside parentheses of a select-list expression, where a
	// subquery's literals are still part of the column's name (MySQL
	// names `(select count(*) from t where a = 5) + 1` by its text).
	inColumn bool
}

type normalizer struct {
	sql    string
	dst    []byte
	args   []any
	insert bool // INSERT or REPLACE: VALUES rows are normalised

	// levels[depth] is the innermost parenthesis level (an array, not a
	// slice into itself, so the normalizer stays on the stack).
	levels [16]level
	depth  int
	// prev is the last significant token: its kind and text.
	prevKind tokKind
	prev     string
}

func (n *normalizer) top() *level { return &n.levels[n.depth] }

func (n *normalizer) run() bool {
	s := n.sql
	first := true
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			n.dst = append(n.dst, c)
			i++
			continue
		case c == '#' || c == ';' || c == '?' || c == '"':
			// Comments, several statements, markers already there, and
			// double-quoted text (a string or, in ANSI_QUOTES, a name).
			return false
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			return false
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			return false
		case isWordStart(c):
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if j < len(s) && (s[j] == '\'' || s[j] == '"') {
				// An introducer or radix string: _utf8mb4'x', x'ff', b'1', N'x'.
				return false
			}
			word := s[i:j]
			if first {
				if !n.startStatement(word) {
					return false
				}
				first = false
			}
			n.dst = append(n.dst, word...)
			n.keyword(word)
			n.prevKind, n.prev = tokWord, word
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
				// 1.5, 1e3, 0x1f, 0b1, 9abc (an identifier): left alone.
				k := j
				for k < len(s) && (isWordByte(s[k]) || s[k] == '.') {
					k++
				}
				n.dst = append(n.dst, s[i:k]...)
				n.prevKind, n.prev = tokValue, s[i:k]
				i = k
				continue
			}
			lit := s[i:j]
			if n.literalContext() {
				if v, ok := parseIntLiteral(lit); ok {
					n.dst = append(n.dst, '?')
					n.args = append(n.args, v)
					n.afterValue()
					i = j
					continue
				}
			}
			n.dst = append(n.dst, lit...)
			n.afterValue()
			i = j
		case c == '\'':
			j, val, ok := scanString(s, i)
			if !ok {
				return false
			}
			if n.literalContext() {
				n.dst = append(n.dst, '?')
				n.args = append(n.args, val)
			} else {
				n.dst = append(n.dst, s[i:j]...)
			}
			n.afterValue()
			i = j
		case c == '`':
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], '`')
				if k < 0 {
					return false
				}
				j += k + 1
				if j < len(s) && s[j] == '`' {
					j++
					continue
				}
				break
			}
			n.dst = append(n.dst, s[i:j]...)
			n.prevKind, n.prev = tokValue, s[i:j]
			i = j
		case c == '(':
			if n.depth+1 == len(n.levels) {
				return false // deeper than any OLTP statement: left alone
			}
			outer := n.top()
			kind := parenOther
			switch {
			case n.prevKind == tokWord && strings.EqualFold(n.prev, "in"):
				kind = parenIn
			case outer.values && (n.prevKind == tokWord || n.prev == ","):
				kind = parenValues
			}
			n.depth++
			// Parentheses in the select list or ORDER BY (function arguments,
			// conditions inside IF or CASE) are still part of a column's name
			// or an ordinal's context.
			n.levels[n.depth] = level{kind: kind, selectList: outer.selectList, orderBy: outer.orderBy, inColumn: outer.selectList || outer.inColumn}
			n.dst = append(n.dst, c)
			n.prevKind, n.prev = tokPunct, "("
			i++
		case c == ')':
			if n.depth == 0 {
				return false
			}
			n.depth--
			n.dst = append(n.dst, c)
			n.prevKind, n.prev = tokPunct, ")"
			i++
		default:
			// Operators and punctuation: the comparison operators are the
			// ones a literal after them is a value in.
			j := i + 1
			for j < len(s) && j-i < 3 && isOpByte(s[j]) && isOpByte(c) {
				j++
			}
			op := s[i:j]
			if first {
				return false
			}
			n.dst = append(n.dst, op...)
			switch op {
			case "=", "<", ">", "<=", ">=", "<>", "!=", "<=>":
				n.prevKind = tokOp
			default:
				n.prevKind = tokPunct
			}
			n.prev = op
			if op != "," {
				n.top().afterAnd = false
			}
			i = j
		}
	}
	return !first && n.depth == 0
}

// startStatement accepts the statements whose literals may become markers.
func (n *normalizer) startStatement(word string) bool {
	for _, w := range [...]string{"select", "update", "delete"} {
		if strings.EqualFold(word, w) {
			return true
		}
	}
	if strings.EqualFold(word, "insert") || strings.EqualFold(word, "replace") {
		n.insert = true
		return true
	}
	return false
}

// keyword updates the clause state after a word.
func (n *normalizer) keyword(word string) {
	l := n.top()
	l.afterAnd = false
	if len(word) < 2 || len(word) > 8 {
		return
	}
	var buf [8]byte
	lw := buf[:len(word)]
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lw[i] = c
	}
	switch string(lw) {
	case "select":
		// A subquery's level holds a query, not a value list.
		l.kind = parenOther
		l.selectList, l.orderBy, l.limit = true, false, false
	case "from":
		l.selectList = false
	case "by":
		if n.prevKind == tokWord && (strings.EqualFold(n.prev, "order") || strings.EqualFold(n.prev, "group")) {
			l.orderBy = true
		}
	case "limit":
		l.orderBy, l.limit = false, true
	case "having", "window", "for", "lock", "union", "into", "where", "on":
		l.orderBy, l.limit = false, false
		if string(lw) == "on" || string(lw) == "where" {
			l.values = false
		}
	case "values", "value":
		if n.insert && n.depth == 0 {
			l.values = true
		}
	case "between":
		l.between = true
	case "and":
		if l.between {
			l.between = false
			l.afterAnd = true
		}
	}
}

// literalContext says whether a literal at this point is a plain value.
func (n *normalizer) literalContext() bool {
	l := n.top()
	if l.selectList || l.orderBy || l.inColumn {
		return false
	}
	switch n.prevKind {
	case tokOp:
		return true
	case tokWord:
		switch {
		case l.afterAnd:
			return true
		case strings.EqualFold(n.prev, "between") && l.between:
			return true
		case l.limit && (strings.EqualFold(n.prev, "limit") || strings.EqualFold(n.prev, "offset")):
			return true
		}
	case tokPunct:
		if n.prev == "," && l.limit {
			return true
		}
		if n.prev == "(" || n.prev == "," {
			return l.kind == parenIn || l.kind == parenValues
		}
	}
	return false
}

// afterValue records that a value was written.
func (n *normalizer) afterValue() {
	n.top().afterAnd = false
	n.prevKind, n.prev = tokValue, ""
}

func parseIntLiteral(lit string) (any, bool) {
	if v, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return v, true
	}
	if v, err := strconv.ParseUint(lit, 10, 64); err == nil {
		return v, true
	}
	return nil, false // beyond BIGINT UNSIGNED: a DECIMAL, left alone
}

// scanString reads the single-quoted string starting at s[i] and returns
// the index after it and its value (backslash escapes and doubled quotes undone, as
// MySQL reads them without NO_BACKSLASH_ESCAPES).
func scanString(s string, i int) (end int, val string, ok bool) {
	j := i + 1
	plain := true
	for j < len(s) {
		switch s[j] {
		case '\\':
			plain = false
			j += 2
			continue
		case '\'':
			if j+1 < len(s) && s[j+1] == '\'' {
				plain = false
				j += 2
				continue
			}
			if plain {
				return j + 1, s[i+1 : j], true
			}
			return j + 1, unescapeString(s[i+1 : j]), true
		}
		j++
	}
	return 0, "", false
}

// unescapeString undoes MySQL's string escapes (\0 \' \" \b \n \r \t \Z
// \\, and \ before any other byte is that byte) and doubled quotes. \% and \_
// keep their backslash, as MySQL does.
func unescapeString(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' && i+1 < len(s) && s[i+1] == '\'' {
			b = append(b, '\'')
			i++
			continue
		}
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '0':
			b = append(b, 0)
		case 'b':
			b = append(b, '\b')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'Z':
			b = append(b, 0x1a)
		case '%', '_':
			b = append(b, '\\', e)
		default:
			b = append(b, e)
		}
	}
	return string(b)
}

func isWordStart(c byte) bool {
	return c == '_' || c == '$' || c == '@' || c >= 0x80 || (c|0x20) >= 'a' && (c|0x20) <= 'z'
}

func isWordByte(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' }

func isOpByte(c byte) bool {
	switch c {
	case '=', '<', '>', '!', ':', '|', '&', '^', '~':
		return true
	}
	return false
}
