package gateway

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/shardgate/shardgate/sqlerror"
)

// settings are the session's SET assignments that the shards must see:
// system variables (sql_mode, time_zone, ...), character sets and user
// variables. Backend connections are pooled, so they are applied when a
// statement takes a connection and undone when it gives it back.
type settings struct {
	vars []setting
}

type setting struct {
	key    string // lower-cased variable name: what a later SET replaces
	assign string // "@@SESSION.`sql_mode`='ANSI'"
	reset  string // "@@SESSION.`sql_mode`=DEFAULT"
}

func (st *settings) set(v setting) {
	for i := range st.vars {
		if st.vars[i].key == v.key {
			st.vars[i] = v
			return
		}
	}
	st.vars = append(st.vars, v)
}

func (st *settings) unset(key string) {
	for i := range st.vars {
		if st.vars[i].key == key {
			st.vars = append(st.vars[:i], st.vars[i+1:]...)
			return
		}
	}
}

func (st *settings) applySQL() string { return st.join(func(v setting) string { return v.assign }) }
func (st *settings) resetSQL() string { return st.join(func(v setting) string { return v.reset }) }

func (st *settings) join(part func(setting) string) string {
	if len(st.vars) == 0 {
		return ""
	}
	parts := make([]string, len(st.vars))
	for i, v := range st.vars {
		parts[i] = part(v)
	}
	return "SET " + strings.Join(parts, ", ")
}

// execSet handles SET: autocommit is the gateway's own; the rest become
// settings replayed on shard connections.
func (s *session) execSet(ctx context.Context, st *ast.SetStmt, sql string, more bool) error {
	for _, v := range st.Variables {
		if v.IsGlobal || v.IsInstance {
			return sqlerror.NotSupported("SET GLOBAL")
		}
		name := strings.ToLower(v.Name)
		switch {
		case name == "autocommit":
			on, err := boolValue(v)
			if err != nil {
				return err
			}
			if on && !s.autocommit {
				// Turning autocommit on commits the open transaction.
				if err := s.commit(ctx); err != nil {
					return err
				}
			}
			s.autocommit = on
		case name == strings.ToLower(ast.SetNames) || name == strings.ToLower(ast.SetCharset):
			text, err := restore(v)
			if err != nil {
				return err
			}
			if isDefaultCharset(v) {
				s.settings.unset("names")
				continue
			}
			s.settings.set(setting{key: "names", assign: text, reset: "NAMES utf8mb4"})
		case name == "transaction_mode":
			// The gateway's own: how transactions spanning shards commit.
			text, err := restoreExpr(v.Value)
			if err != nil {
				return err
			}
			if err := s.setTxMode(text); err != nil {
				return err
			}
		case name == "max_execution_time":
			// MySQL's per-statement limit in milliseconds: the gateway's
			// own (MariaDB shards don't know it).
			ms, err := limitValue(v)
			if err != nil {
				return err
			}
			s.maxStatementTime = time.Duration(ms * float64(time.Millisecond))
		case name == "tx_isolation_one_shot":
			// SET TRANSACTION ISOLATION LEVEL: only the next transaction.
			level, err := restoreExpr(v.Value)
			if err != nil {
				return err
			}
			s.nextTxIsolation = strings.ReplaceAll(strings.Trim(level, "'"), "-", " ")
		default:
			text, err := restore(v)
			if err != nil {
				return err
			}
			if name == "sql_mode" && strings.Contains(strings.ToUpper(text), "NO_BACKSLASH_ESCAPES") {
				// The planner escapes string values with backslashes.
				return sqlerror.NotSupported("sql_mode NO_BACKSLASH_ESCAPES")
			}
			if name == "max_statement_time" {
				// MariaDB's limit in seconds: the gateway enforces it on
				// the whole statement, and the shards see it too.
				sec, err := limitValue(v)
				if err != nil {
					return err
				}
				s.maxStatementTime = time.Duration(sec * float64(time.Second))
			}
			reset := text[:strings.IndexByte(text, '=')+1]
			if lit, ok, err := s.evalSetValue(ctx, v.Value); err != nil {
				return err
			} else if ok {
				text = reset + lit
			}
			if v.IsSystem {
				reset += "DEFAULT"
			} else {
				reset += "NULL"
			}
			s.settings.set(setting{key: name, assign: text, reset: reset})
		}
	}
	return s.writeOK(0, 0, more)
}

// isDefaultCharset reports SET NAMES utf8mb4 without a collation: what
// every backend connection already uses.
func isDefaultCharset(v *ast.VariableAssignment) bool {
	text, err := restoreExpr(v.Value)
	if err != nil {
		return false
	}
	cs := strings.ToLower(strings.Trim(text, "'`\""))
	return cs == "utf8mb4" && v.ExtendValue == nil
}

func boolValue(v *ast.VariableAssignment) (bool, error) {
	text, err := restoreExpr(v.Value)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.Trim(text, "'`\"")) {
	case "1", "on", "true":
		return true, nil
	case "0", "off", "false":
		return false, nil
	}
	return false, sqlerror.New(sqlerror.User, mysql.ER_WRONG_VALUE_FOR_VAR, "Variable '%s' can't be set to the value of '%s'", v.Name, text)
}

// limitValue reads a time limit's value: a non-negative number, or DEFAULT
// (0, no limit).
func limitValue(v *ast.VariableAssignment) (float64, error) {
	if _, isDefault := v.Value.(*ast.DefaultExpr); isDefault {
		return 0, nil
	}
	text, err := restoreExpr(v.Value)
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(strings.Trim(text, "'\""), 64)
	if perr != nil || f < 0 || math.IsInf(f, 0) {
		return 0, sqlerror.New(sqlerror.User, mysql.ER_WRONG_TYPE_FOR_VAR, "Incorrect argument type to variable '%s'", v.Name)
	}
	return f, nil
}

func restore(n ast.Node) (string, error) {
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
		return "", sqlerror.New(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "%v", err)
	}
	return sb.String(), nil
}

func restoreExpr(e ast.ExprNode) (string, error) {
	if e == nil {
		return "", nil
	}
	return restore(e)
}
