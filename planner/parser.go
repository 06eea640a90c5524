package planner

import (
	"errors"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	tidbmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/terror"

	"github.com/shardgate/shardgate/sqlerror"
)

// Parser parses SQL text into TiDB AST statements whose literals come from
// this package's driver (driver.go). It is not safe for concurrent use: the
// gateway keeps one per session.
type Parser struct {
	p    *parser.Parser
	mode tidbmysql.SQLMode
}

// NewParser returns a parser in MySQL's default SQL mode.
func NewParser() *Parser {
	installDriver()
	return &Parser{p: parser.New()}
}

// SetNoBackslashEscapes makes backslashes in string literals plain
// characters, as sql_mode NO_BACKSLASH_ESCAPES does, or escapes again.
func (p *Parser) SetNoBackslashEscapes(on bool) {
	if on {
		p.mode |= tidbmysql.ModeNoBackslashEscapes
	} else {
		p.mode &^= tidbmysql.ModeNoBackslashEscapes
	}
	p.p.SetSQLMode(p.mode)
}

// Parse parses one or more statements. A syntax error is a user error
// (sqlerror.User) 1064, SQLSTATE 42000, with MySQL's wording.
func (p *Parser) Parse(sql string) (stmts []ast.StmtNode, err error) {
	defer func() {
		// The parser is generated code; never let a bug in it take a session down.
		if r := recover(); r != nil {
			stmts, err = nil, sqlerror.New(sqlerror.User, mysql.ER_PARSE_ERROR, "%s", syntaxMessage("", sql))
			p.p = parser.New()
			p.p.SetSQLMode(p.mode)
		}
	}()
	stmts, _, err = p.p.Parse(sql, "", "")
	if err != nil {
		return nil, parseError(err, sql)
	}
	if len(stmts) == 0 {
		return nil, sqlerror.New(sqlerror.User, mysql.ER_EMPTY_QUERY, "Query was empty")
	}
	return stmts, nil
}

// parseError turns the TiDB parser's error into MySQL's 1064 text:
// "You have an error in your SQL syntax; ... near '...' at line N".
func parseError(err error, sql string) error {
	msg := err.Error()
	var te *terror.Error
	if errors.As(err, &te) {
		msg = te.GetMsg()
	}
	// TiDB: "... to use line 1 column 14 near \"frm t\" "
	if i := strings.Index(msg, " near \""); i >= 0 {
		near := msg[i+len(" near \""):]
		near = strings.TrimSuffix(strings.TrimRight(near, " "), "\"")
		line := "1"
		if j := strings.LastIndex(msg[:i], "line "); j >= 0 {
			rest := msg[j+len("line ") : i]
			if k := strings.IndexByte(rest, ' '); k >= 0 {
				line = rest[:k]
			}
		}
		return sqlerror.New(sqlerror.User, mysql.ER_PARSE_ERROR, "%s", syntaxMessageLine(near, line))
	}
	return sqlerror.New(sqlerror.User, mysql.ER_PARSE_ERROR, "%s", syntaxMessage("", sql))
}

func syntaxMessage(near, _ string) string { return syntaxMessageLine(near, "1") }

func syntaxMessageLine(near, line string) string {
	if len(near) > 80 {
		near = near[:80]
	}
	return "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '" +
		near + "' at line " + line
}
