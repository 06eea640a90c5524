package engine

import (
	"context"
	"encoding/hex"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// SettingActions are the session changes a SET makes (Vitess's
// SessionActions setters). The gateway's session implements them beside
// SessionActions.
type SettingActions interface {
	// SetAutocommit turns autocommit on or off; turning it on commits the
	// open transaction.
	SetAutocommit(ctx context.Context, on bool) error
	// SetTransactionMode sets the gateway's transaction_mode (how
	// transactions spanning shards commit) from its SQL value.
	SetTransactionMode(value string) error
	// SetReplicaReads sets the gateway's replica_reads (what a replica
	// read does when no replica of a shard may serve) from its SQL value.
	SetReplicaReads(value string) error
	// SetStatementLimit bounds every later statement of the session
	// (max_execution_time, max_statement_time); 0 is no limit.
	SetStatementLimit(limit time.Duration)
	// SetNextTxIsolation sets the isolation level of the next transaction
	// only (SET TRANSACTION ISOLATION LEVEL).
	SetNextTxIsolation(level string)
	// SetNextTxReadOnly makes the next transaction READ ONLY (SET
	// TRANSACTION READ ONLY without SESSION).
	SetNextTxReadOnly()
	// SetShardSetting records an assignment every shard connection of the
	// session must see: applied when a statement takes a connection
	// (assign, "@@SESSION.`sql_mode`='ANSI'") and undone when it gives it
	// back (reset). A later setting with the same key replaces it.
	SetShardSetting(key, assign, reset string)
	// UnsetShardSetting drops the setting with key.
	UnsetShardSetting(key string)
}

// Set runs a SET statement's assignments in order; the planner has sorted
// each into an op: the gateway's own variables change the session, the
// rest become settings replayed on shard connections.
type Set struct {
	Ops []SetOp
}

// SetOp is one assignment of a SET.
type SetOp interface {
	apply(ctx context.Context, vc VCursor, sess SettingActions) error
	String() string
}

// Execute implements Primitive: it answers OK.
func (s *Set) Execute(ctx context.Context, vc VCursor, _ []any) (*Result, error) {
	sess, ok := vc.Session().(SettingActions)
	if !ok {
		return nil, errNoSession("SET")
	}
	for _, op := range s.Ops {
		if err := op.apply(ctx, vc, sess); err != nil {
			return nil, err
		}
	}
	return &Result{}, nil
}

// Stream implements Primitive.
func (s *Set) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := s.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (s *Set) Inputs() []Primitive { return nil }

func (s *Set) description() Description {
	ops := make([]string, len(s.Ops))
	for i, op := range s.Ops {
		ops[i] = op.String()
	}
	return Description{OperatorType: "Set", Other: map[string]any{"Ops": ops}}
}

// SetAutocommit is SET autocommit: the gateway's own.
type SetAutocommit struct{ On bool }

func (o *SetAutocommit) apply(ctx context.Context, _ VCursor, sess SettingActions) error {
	return sess.SetAutocommit(ctx, o.On)
}

func (o *SetAutocommit) String() string {
	if o.On {
		return "autocommit=1"
	}
	return "autocommit=0"
}

// SetTransactionMode is SET transaction_mode: the gateway's own.
type SetTransactionMode struct{ Value string }

func (o *SetTransactionMode) apply(_ context.Context, _ VCursor, sess SettingActions) error {
	return sess.SetTransactionMode(o.Value)
}

func (o *SetTransactionMode) String() string { return "transaction_mode=" + o.Value }

// SetReplicaReads is SET replica_reads: the gateway's own.
type SetReplicaReads struct{ Value string }

func (o *SetReplicaReads) apply(_ context.Context, _ VCursor, sess SettingActions) error {
	return sess.SetReplicaReads(o.Value)
}

func (o *SetReplicaReads) String() string { return "replica_reads=" + o.Value }

// SetStatementLimit is the gateway's part of SET max_execution_time
// (MySQL's, which MariaDB shards don't know) and max_statement_time
// (MariaDB's, which the shards see too, through a SetShardSetting).
type SetStatementLimit struct{ Limit time.Duration }

func (o *SetStatementLimit) apply(_ context.Context, _ VCursor, sess SettingActions) error {
	sess.SetStatementLimit(o.Limit)
	return nil
}

func (o *SetStatementLimit) String() string { return "statement limit=" + o.Limit.String() }

// SetNextTxIsolation is SET TRANSACTION ISOLATION LEVEL: the next
// transaction only.
type SetNextTxIsolation struct{ Level string }

func (o *SetNextTxIsolation) apply(_ context.Context, _ VCursor, sess SettingActions) error {
	sess.SetNextTxIsolation(o.Level)
	return nil
}

func (o *SetNextTxIsolation) String() string { return "next transaction isolation=" + o.Level }

// SetShardSetting is a system or user variable (or NAMES) the shards
// must see. A value that reads state (`@@character_set_client`, `@saved`,
// NOW()) is evaluated once, now, on a shard with the session's settings
// applied (Eval, a Send of "SELECT expr"), and replayed as the literal it
// had: MySQL evaluates a SET value once, when the SET runs, while a
// replayed expression would mean something else on each connection (and
// MariaDB evaluates all the values of one SET before assigning any, so a
// replayed `@a = ..., x = @a` would read the old @a).
type SetShardSetting struct {
	Key string
	// Assign is the assignment as SQL ("@@SESSION.`sql_mode`='ANSI'");
	// with Eval, its value is replaced by the evaluated literal.
	Assign string
	// Reset undoes it ("@@SESSION.`sql_mode`=DEFAULT", "@`a`=NULL").
	Reset string
	Eval  *Send
}

func (o *SetShardSetting) apply(ctx context.Context, vc VCursor, sess SettingActions) error {
	assign := o.Assign
	if o.Eval != nil {
		res, err := o.Eval.Execute(ctx, vc, nil)
		if err != nil {
			return err
		}
		if len(res.Rows) != 1 || len(res.Fields) != 1 {
			return errInternal("SET value did not evaluate to one value")
		}
		assign = assign[:strings.IndexByte(assign, '=')+1] + SQLValue(res.Fields[0], res.Rows[0][0])
	}
	sess.SetShardSetting(o.Key, assign, o.Reset)
	return nil
}

func (o *SetShardSetting) String() string {
	if o.Eval != nil {
		return o.Assign + " (evaluated on " + o.Eval.Keyspace + ": " + o.Eval.Query + ")"
	}
	return o.Assign
}

// UnsetShardSetting drops a shard setting: SET NAMES utf8mb4, what every
// shard connection already uses.
type UnsetShardSetting struct{ Key string }

func (o *UnsetShardSetting) apply(_ context.Context, _ VCursor, sess SettingActions) error {
	sess.UnsetShardSetting(o.Key)
	return nil
}

func (o *UnsetShardSetting) String() string { return "unset " + o.Key }

// SQLValue writes a text-protocol value back as SQL: numbers bare,
// binary strings as X'..', other strings quoted.
func SQLValue(f *mysql.Field, v []byte) string {
	if v == nil {
		return "NULL"
	}
	switch f.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG,
		mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL,
		mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		return string(v)
	}
	if f.Charset == binaryCollation {
		return "X'" + hex.EncodeToString(v) + "'"
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(string(v)) + "'"
}

// SetNextTxReadOnly is SET TRANSACTION READ ONLY: the next transaction
// only (SET SESSION TRANSACTION READ ONLY is a shard setting).
type SetNextTxReadOnly struct{}

func (o *SetNextTxReadOnly) apply(_ context.Context, _ VCursor, sess SettingActions) error {
	sess.SetNextTxReadOnly()
	return nil
}

func (o *SetNextTxReadOnly) String() string { return "next transaction read only" }
