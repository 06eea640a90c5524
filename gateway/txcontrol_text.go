package gateway

import "context"

// Transaction control without the parser. BEGIN, COMMIT and ROLLBACK make
// up a large share of an OLTP workload's statements (sysbench read_write:
// 2 of 18), and TiDB's parser costs tens of allocations for each; the
// plan cache does not serve them (they are not plans). The plain forms are
// recognised from their text instead; anything more (START TRANSACTION
// READ ONLY, COMMIT AND CHAIN, ROLLBACK TO SAVEPOINT, a comment, a second
// statement) still goes through the parser.

// txControl is one of the transaction statements recognised from text.
type txControl uint8

const (
	txNone txControl = iota
	txBegin
	txCommit
	txRollback
)

// txControlOf recognises BEGIN, START TRANSACTION, COMMIT and ROLLBACK in
// any letter case, with blanks around the words and trailing semicolons.
func txControlOf(sql string) txControl {
	w, rest := nextWord(sql)
	var c txControl
	switch {
	case equalFoldASCII(w, "begin"):
		c = txBegin
	case equalFoldASCII(w, "commit"):
		c = txCommit
	case equalFoldASCII(w, "rollback"):
		c = txRollback
	case equalFoldASCII(w, "start"):
		w, rest = nextWord(rest)
		if !equalFoldASCII(w, "transaction") {
			return txNone
		}
		c = txBegin
	default:
		return txNone
	}
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case ' ', '\t', '\r', '\n', ';':
		default:
			return txNone
		}
	}
	return c
}

// nextWord skips blanks and returns the letters that follow and the rest.
func nextWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	j := i
	for j < len(s) && (s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z') {
		j++
	}
	return s[i:j], s[j:]
}

// equalFoldASCII compares a word with a lower-case ASCII keyword.
func equalFoldASCII(word, lower string) bool {
	if len(word) != len(lower) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if word[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// runTxControl runs sql if it is a plain BEGIN, COMMIT or ROLLBACK, as
// execStmt would run the parsed statement, and reports whether it was.
func (s *session) runTxControl(ctx context.Context, sql string) (bool, error) {
	switch txControlOf(sql) {
	case txBegin:
		if err := s.begin(ctx, false); err != nil {
			return true, err
		}
	case txCommit:
		if err := s.commit(ctx); err != nil {
			return true, err
		}
	case txRollback:
		s.rollback(ctx)
	default:
		return false, nil
	}
	return true, s.writeOK(0, 0, false)
}
