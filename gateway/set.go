package gateway

import (
	"context"
	"strings"
	"time"

	"github.com/shardgate/shardgate/engine"
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

var _ engine.SettingActions = (*vcursor)(nil)

// The session changes a SET makes: the planner sorts its assignments
// (planner/build_set.go) into engine.Set ops, which call these.

// SetAutocommit turns autocommit on or off; turning it on commits the
// open transaction.
func (vc *vcursor) SetAutocommit(ctx context.Context, on bool) error {
	s := vc.s
	if on && !s.autocommit {
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
	s.autocommit = on
	return nil
}

// SetTransactionMode sets how the session's transactions spanning shards
// commit (txmode.go).
func (vc *vcursor) SetTransactionMode(value string) error { return vc.s.setTxMode(value) }

// SetReplicaReads sets what the session's replica reads do when no
// replica of a shard may serve.
func (vc *vcursor) SetReplicaReads(value string) error { return vc.s.setReplicaReads(value) }

// SetStatementLimit bounds the session's later statements (statement.go).
func (vc *vcursor) SetStatementLimit(limit time.Duration) { vc.s.maxStatementTime = limit }

// SetNextTxIsolation sets the next transaction's isolation level.
func (vc *vcursor) SetNextTxIsolation(level string) { vc.s.nextTxIsolation = level }

// SetNextTxReadOnly makes the next transaction READ ONLY.
func (vc *vcursor) SetNextTxReadOnly() { vc.s.nextTxReadOnly = true }

// SetShardSetting records a setting replayed on the session's shard
// connections.
func (vc *vcursor) SetShardSetting(key, assign, reset string) {
	if key == "sql_mode" {
		// Shards never run NO_BACKSLASH_ESCAPES: the gateway reads the
		// client's text in it and says everything to the shards in the
		// default mode (nobackslash.go).
		var on bool
		assign, on = withoutNoBackslashEscapes(assign)
		vc.s.setNoBackslashEscapes(on)
	}
	vc.s.settings.set(setting{key: key, assign: assign, reset: reset})
}

// UnsetShardSetting drops a setting.
func (vc *vcursor) UnsetShardSetting(key string) {
	if key == "sql_mode" {
		vc.s.setNoBackslashEscapes(false)
	}
	vc.s.settings.unset(key)
}
