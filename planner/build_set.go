package planner

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// buildSet sorts a SET's assignments into engine.Set ops: autocommit,
// transaction_mode, replica_reads, max_execution_time and SET TRANSACTION ISOLATION
// LEVEL are the gateway's own; everything else becomes a setting
// replayed on shard connections, its value evaluated on any shard first
// when it reads state. A value the gateway cannot take refuses the whole
// SET before any of it applies, as MySQL checks every assignment first.
func (b *builder) buildSet(st *ast.SetStmt) (engine.Primitive, error) {
	set := &engine.Set{}
	for _, v := range st.Variables {
		if v.IsGlobal || v.IsInstance {
			return nil, sqlerror.NotSupported("SET GLOBAL")
		}
		ops, err := b.setOps(v)
		if err != nil {
			return nil, err
		}
		set.Ops = append(set.Ops, ops...)
	}
	return set, nil
}

func (b *builder) setOps(v *ast.VariableAssignment) ([]engine.SetOp, error) {
	name := strings.ToLower(v.Name)
	switch {
	case name == "autocommit":
		on, err := boolValue(v)
		if err != nil {
			return nil, err
		}
		return []engine.SetOp{&engine.SetAutocommit{On: on}}, nil
	case name == strings.ToLower(ast.SetNames) || name == strings.ToLower(ast.SetCharset):
		text, err := restoreSet(v)
		if err != nil {
			return nil, err
		}
		if isDefaultCharset(v) {
			return []engine.SetOp{&engine.UnsetShardSetting{Key: "names"}}, nil
		}
		return []engine.SetOp{&engine.SetShardSetting{Key: "names", Assign: text, Reset: "NAMES utf8mb4"}}, nil
	case name == "transaction_mode":
		// The gateway's own: how transactions spanning shards commit.
		text, err := restoreSetExpr(v.Value)
		if err != nil {
			return nil, err
		}
		return []engine.SetOp{&engine.SetTransactionMode{Value: text}}, nil
	case name == "replica_reads":
		// The gateway's own: whether replica reads may fall back to the
		// primary when no replica is healthy.
		text, err := restoreSetExpr(v.Value)
		if err != nil {
			return nil, err
		}
		return []engine.SetOp{&engine.SetReplicaReads{Value: text}}, nil
	case name == "max_execution_time":
		// MySQL's per-statement limit in milliseconds: the gateway's
		// own (MariaDB shards don't know it).
		ms, err := limitValue(v)
		if err != nil {
			return nil, err
		}
		return []engine.SetOp{&engine.SetStatementLimit{Limit: time.Duration(ms * float64(time.Millisecond))}}, nil
	case name == "tx_read_only" || name == "transaction_read_only":
		// SET [SESSION] TRANSACTION READ ONLY|WRITE and the variables.
		on, err := boolValue(v)
		if err != nil {
			return nil, err
		}
		if oneShotTransaction(b.sql) {
			if !on {
				return nil, nil // the next transaction is read-write anyway
			}
			return []engine.SetOp{&engine.SetNextTxReadOnly{}}, nil
		}
		if !on {
			return []engine.SetOp{&engine.UnsetShardSetting{Key: "tx_read_only"}}, nil
		}
		return []engine.SetOp{&engine.SetShardSetting{Key: "tx_read_only", Assign: "SESSION TRANSACTION READ ONLY", Reset: "SESSION TRANSACTION READ WRITE"}}, nil
	case name == "tx_isolation_one_shot":
		// SET TRANSACTION ISOLATION LEVEL: only the next transaction.
		level, err := restoreSetExpr(v.Value)
		if err != nil {
			return nil, err
		}
		return []engine.SetOp{&engine.SetNextTxIsolation{Level: strings.ReplaceAll(strings.Trim(level, "'"), "-", " ")}}, nil
	}
	text, err := restoreSet(v)
	if err != nil {
		return nil, err
	}
	if name == "sql_mode" {
		if err := checkSQLMode(v.Value); err != nil {
			return nil, err
		}
	}
	var ops []engine.SetOp
	if name == "max_statement_time" {
		// MariaDB's limit in seconds: the gateway enforces it on the
		// whole statement, and the shards see it too.
		sec, err := limitValue(v)
		if err != nil {
			return nil, err
		}
		ops = append(ops, &engine.SetStatementLimit{Limit: time.Duration(sec * float64(time.Second))})
	}
	reset := text[:strings.IndexByte(text, '=')+1]
	op := &engine.SetShardSetting{Key: name, Assign: text}
	if v.Value != nil && readsState(v.Value) {
		expr, err := restoreSetExpr(v.Value)
		if err != nil {
			return nil, err
		}
		if op.Eval, err = b.sendAnyShard(b.serverKeyspace(), "SELECT "+expr); err != nil {
			return nil, err
		}
	}
	if v.IsSystem {
		op.Reset = reset + "DEFAULT"
	} else {
		op.Reset = reset + "NULL"
	}
	ops = append(ops, op)
	if v.IsSystem && engine.IsEvalVariable(name) {
		// The gateway computes with it too (divisions, GROUP_CONCAT,
		// sql_select_limit): it takes a literal value, and reads back
		// what the shards make of any other.
		eval := &engine.SetEvalVariable{Name: name, Value: evalVariableValue(name, v.Value)}
		if eval.Value == nil {
			if eval.Read, err = b.sendAnyShard(b.serverKeyspace(), "SELECT @@SESSION."+name); err != nil {
				return nil, err
			}
		}
		ops = append(ops, eval)
		if name == "sql_select_limit" {
			// The gateway's alone once read: shards that applied it would
			// cut the partial results the gateway merges.
			ops = append(ops, &engine.UnsetShardSetting{Key: name})
		}
	}
	return ops, nil
}

// serverKeyspace is where a statement about the server rather than a
// table goes: the target keyspace, or any keyspace.
func (b *builder) serverKeyspace() string {
	if b.target.Keyspace != "" {
		return b.target.Keyspace
	}
	return anyKeyspace(b.vs)
}

// isDefaultCharset reports SET NAMES utf8mb4 without a collation: what
// every backend connection already uses.
func isDefaultCharset(v *ast.VariableAssignment) bool {
	text, err := restoreSetExpr(v.Value)
	if err != nil {
		return false
	}
	cs := strings.ToLower(strings.Trim(text, "'`\""))
	return cs == "utf8mb4" && v.ExtendValue == nil
}

func boolValue(v *ast.VariableAssignment) (bool, error) {
	text, err := restoreSetExpr(v.Value)
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
	text, err := restoreSetExpr(v.Value)
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(strings.Trim(text, "'\""), 64)
	if perr != nil || f < 0 || math.IsInf(f, 0) {
		return 0, sqlerror.New(sqlerror.User, mysql.ER_WRONG_TYPE_FOR_VAR, "Incorrect argument type to variable '%s'", v.Name)
	}
	return f, nil
}

// restoreSet renders a SET's parts as the gateway replays them: MySQL's
// default restore flags, not the shard queries' (restore).
func restoreSet(n ast.Node) (string, error) {
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
		return "", sqlerror.New(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "%v", err)
	}
	return sb.String(), nil
}

func restoreSetExpr(e ast.ExprNode) (string, error) {
	if e == nil {
		return "", nil
	}
	return restoreSet(e)
}

// readsState reports whether an expression reads a variable or calls a
// function (its value depends on when and where it is evaluated).
func readsState(e ast.ExprNode) bool {
	var v stateReader
	e.Accept(&v)
	return v.found
}

type stateReader struct{ found bool }

func (v *stateReader) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.VariableExpr, *ast.FuncCallExpr:
		v.found = true
		return n, true
	}
	return n, false
}

func (v *stateReader) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// oneShotTransaction reports SET TRANSACTION ... without SESSION or
// GLOBAL: MySQL applies it to the next transaction only. The parser gives
// both the same variable, so the text decides.
func oneShotTransaction(sql string) bool {
	words := strings.Fields(strings.ToLower(skipComments(sql)))
	return len(words) >= 2 && words[0] == "set" && words[1] == "transaction"
}

// skipComments drops leading /* */ comments.
func skipComments(sql string) string {
	for {
		sql = strings.TrimSpace(sql)
		if !strings.HasPrefix(sql, "/*") {
			return sql
		}
		end := strings.Index(sql, "*/")
		if end < 0 {
			return sql
		}
		sql = sql[end+2:]
	}
}

// evalVariableValue is the value SET gives a variable the gateway
// evaluates with, when the statement says it plainly: DEFAULT, or an
// unsigned integer literal small enough for every such variable's range
// (group_concat_max_len's ends at 2^32-1 on some builds). nil for
// anything else, which is read back from a shard.
func evalVariableValue(name string, value ast.ExprNode) *uint64 {
	if _, ok := value.(*ast.DefaultExpr); ok {
		d := engine.EvalVariableDefault(name)
		return &d
	}
	lit, ok := value.(*valueExpr)
	if !ok {
		return nil
	}
	var n uint64
	switch x := lit.val.(type) {
	case int64:
		if x < 0 {
			return nil
		}
		n = uint64(x)
	case uint64:
		n = x
	default:
		return nil
	}
	if n > math.MaxUint32 {
		return nil
	}
	return &n
}
