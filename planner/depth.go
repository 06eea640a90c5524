package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// MaxExpressionDepth bounds how deeply a statement's expressions may nest
// (parentheses, and operators chained without a comma between them, which
// the parser turns into a tree as deep as the chain). The TiDB parser is
// iterative, but every walk of its tree — its own visitors, Restore, and
// ours — recurses once per level: 7 million chained ANDs overflowed the Go
// stack, which is fatal to the whole process, not a recoverable panic.
//
// MariaDB refuses `1+1+...` past about a thousand terms with 1436 (thread
// stack overrun) and parentheses past about 20,000 levels with 1064
// (memory exhausted); it flattens AND/OR chains, so it takes longer ones
// than this (200,000 ANDs run there and are refused here). 10,000 levels
// cost the gateway's walks a few MB of goroutine stack at most.
const MaxExpressionDepth = 10000

// checkDepth scans sql as a lexer would (strings, quoted names and
// comments skipped) and refuses, with MariaDB's 1436, a statement whose
// expressions could nest deeper than MaxExpressionDepth. It only
// overestimates: it counts every operator in a chain, whatever its
// precedence, so a statement it passes parses into a tree no deeper than
// the limit (plus a few levels per parenthesis). It never recurses and
// allocates only for deep parentheses. noBackslashEscapes is the session's
// sql_mode NO_BACKSLASH_ESCAPES: strings must end where the parser's do,
// or a deep expression could hide in what the scan takes for a string.
func checkDepth(sql string, noBackslashEscapes bool) error {
	// chain[d] counts the operators since the last comma (or the opening
	// parenthesis) at parenthesis depth d; nested is the sum over the open
	// levels, plus one per open parenthesis.
	var stack [64]int
	chain := stack[:1]
	nested := 0
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i, noBackslashEscapes)
		case c == '#' || c == '-' && i+2 < len(sql) && sql[i+1] == '-' && (sql[i+2] == ' ' || sql[i+2] == '\t' || sql[i+2] == '\n'):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				return nil
			}
			i += j + 1
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*' && (i+2 >= len(sql) || sql[i+2] != '!' && sql[i+2] != '+'):
			// A comment (executable comments /*! */ and hints /*+ */ are
			// scanned as text: the parser reads them).
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return nil
			}
			i += j + 4
		case isWordStart(c):
			j := i + 1
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			if isOperatorWord(sql[i:j]) {
				chain[len(chain)-1]++
				nested++
			}
			i = j
		case c >= '0' && c <= '9':
			i++
			for i < len(sql) && (isWordByte(sql[i]) || sql[i] == '.') {
				i++
			}
		case c == '(':
			chain = append(chain, 0)
			nested++
			i++
		case c == ')':
			if len(chain) > 1 {
				nested -= chain[len(chain)-1] + 1
				chain = chain[:len(chain)-1]
			}
			i++
		case c == ',' || c == ';':
			nested -= chain[len(chain)-1]
			chain[len(chain)-1] = 0
			i++
		case c == '+' || c == '-' || c == '*' || c == '/' || c == '%' || isOpByte(c):
			// A run of operator bytes (`<=>`, `- -`, `!~`) counts once per byte
			// that can start an operator of its own: `- - 1` nests twice.
			chain[len(chain)-1]++
			nested++
			i++
		default:
			i++
		}
		if nested > MaxExpressionDepth {
			return errTooDeep()
		}
	}
	return nil
}

// skipQuoted returns the index after the quoted string or name starting
// at i (the end of sql if it is not closed: the parser reports that).
func skipQuoted(sql string, i int, noBackslashEscapes bool) int {
	q := sql[i]
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if q != '`' && !noBackslashEscapes {
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

// isOperatorWord reports the keywords that build an expression node over
// the operands around them.
func isOperatorWord(w string) bool {
	if len(w) < 2 || len(w) > 7 {
		return false
	}
	for _, op := range [...]string{"AND", "OR", "XOR", "NOT", "DIV", "MOD", "IS", "LIKE", "REGEXP", "RLIKE", "BETWEEN", "IN", "BINARY", "COLLATE", "CASE"} {
		if strings.EqualFold(w, op) {
			return true
		}
	}
	return false
}

// errTooDeep is MariaDB's answer to an expression too deep to evaluate.
func errTooDeep() error {
	return sqlerror.New(sqlerror.User, mysql.ER_STACK_OVERRUN_NEED_MORE,
		"Thread stack overrun: the statement's expressions nest deeper than %d levels (parentheses and chained operators)", MaxExpressionDepth)
}
