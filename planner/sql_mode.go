package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/sqlerror"
)

// sqlModes are MariaDB 10.11's sql_mode names (information_schema
// SYSTEM_VARIABLES.ENUM_VALUE_LIST).
var sqlModes = [...]string{
	"REAL_AS_FLOAT", "PIPES_AS_CONCAT", "ANSI_QUOTES", "IGNORE_SPACE", "IGNORE_BAD_TABLE_OPTIONS",
	"ONLY_FULL_GROUP_BY", "NO_UNSIGNED_SUBTRACTION", "NO_DIR_IN_CREATE", "POSTGRESQL", "ORACLE",
	"MSSQL", "DB2", "MAXDB", "NO_KEY_OPTIONS", "NO_TABLE_OPTIONS", "NO_FIELD_OPTIONS", "MYSQL323",
	"MYSQL40", "ANSI", "NO_AUTO_VALUE_ON_ZERO", "NO_BACKSLASH_ESCAPES", "STRICT_TRANS_TABLES",
	"STRICT_ALL_TABLES", "NO_ZERO_IN_DATE", "NO_ZERO_DATE", "ALLOW_INVALID_DATES",
	"ERROR_FOR_DIVISION_BY_ZERO", "TRADITIONAL", "NO_AUTO_CREATE_USER", "HIGH_NOT_PRECEDENCE",
	"NO_ENGINE_SUBSTITUTION", "PAD_CHAR_TO_FULL_LENGTH", "EMPTY_STRING_IS_NULL",
	"SIMULTANEOUS_ASSIGNMENT", "TIME_ROUND_FRACTIONAL",
}

// checkSQLMode refuses, as MariaDB does (1231), a SET sql_mode to a
// string naming an unknown mode. The gateway replays settings on the
// shard connections only when a later statement runs, so an unknown mode
// used to be accepted and then fail every later statement (issue 15,
// finding 8). Values that are not a plain string (numbers, expressions,
// DEFAULT) are left to the shards.
func checkSQLMode(value ast.ExprNode) error {
	if value == nil {
		return nil
	}
	text, err := restoreSetExpr(value)
	if err != nil || len(text) < 2 || text[0] != '\'' || text[len(text)-1] != '\'' {
		return nil
	}
	modes := text[1 : len(text)-1]
	if strings.ContainsAny(modes, "'\\\\") {
		return nil
	}
	for _, mode := range strings.Split(modes, ",") {
		if mode != "" && !knownSQLMode(mode) {
			return sqlerror.New(sqlerror.User, mysql.ER_WRONG_VALUE_FOR_VAR, "Variable 'sql_mode' can't be set to the value of '%s'", mode)
		}
	}
	return nil
}

func knownSQLMode(mode string) bool {
	for _, m := range sqlModes {
		if strings.EqualFold(m, mode) {
			return true
		}
	}
	return false
}
