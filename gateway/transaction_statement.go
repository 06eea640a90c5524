package gateway

import (
	"context"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
)

// Statement atomicity of a plain write inside an open transaction. MySQL
// undoes a failed statement and lets the transaction go on; one shard
// does that for its own part, but a statement spread over several shards
// failing on one of them (a duplicate key, a constraint, a trigger's
// SIGNAL) would keep what the others wrote. So a write statement whose
// call reaches several shards sets a statement savepoint on every shard
// it reaches that was already in the transaction, pipelined with the
// statement itself (tablet's StreamAfter: no extra round trip); shards
// that join the transaction with the statement need none, as they had no
// work before it. If the statement fails, those shards roll back to the
// savepoint and the joiners roll back entirely and leave the
// transaction, as user savepoints do (rollbackTo).
//
// Single-shard statements keep MySQL's own statement atomicity and pay
// nothing. The savepoint is not released after a success: RELEASE would
// cost every shard a round trip, an unreleased savepoint costs InnoDB
// nothing, and the next statement's SAVEPOINT of the same name replaces
// it (as does any ROLLBACK TO an earlier savepoint, or the transaction's
// end). Statements of several dependent shard calls (row moves, owned
// lookups, INSERT ... SELECT: engine.NeedsTransaction) set the savepoint
// on every participant before they start instead (executeAtomically).

// statementSavepoint is a write statement's protection in the session's
// transaction; its zero value (tx nil) protects nothing. The shard calls
// of one statement may run in parallel, so mu guards marked.
type statementSavepoint struct {
	tx *transaction
	// before is the number of participants when the statement began: the
	// shards joined after it are rolled back entirely on failure.
	before int
	mu     sync.Mutex
	// armed is set once a call of the statement reaches several shards:
	// from then on each earlier participant it reaches gets the savepoint.
	armed  bool
	marked []shardKey
}

// savepointAhead returns the statement to send ahead of the statement's
// query on key's connection, or nil when that shard needs none: the
// statement is not armed, the shard joined the transaction after the
// statement began (or is joining now), or it got the savepoint already.
// The shard is marked as holding the savepoint from here on.
func (sp *statementSavepoint) savepointAhead(key shardKey) []string {
	if sp.tx == nil {
		return nil
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if !sp.armed || !sp.tx.joinedBefore(key, sp.before) {
		return nil
	}
	for _, k := range sp.marked {
		if k == key {
			return nil
		}
	}
	sp.marked = append(sp.marked, key)
	return []string{"SAVEPOINT " + quoteIdent(stmtSavepoint)}
}

// arm is called before a call of the statement reaches shards.
func (sp *statementSavepoint) arm(shards []string) {
	if sp.tx == nil || len(shards) < 2 {
		return
	}
	sp.mu.Lock()
	sp.armed = true
	sp.mu.Unlock()
}

// undo takes the failed statement's work back: the marked shards roll
// back to the savepoint, the shards that joined with the statement roll
// back entirely and leave the transaction. Its error means some shard
// could not be rolled back to the statement's start.
func (sp *statementSavepoint) undo(ctx context.Context) error {
	tx := sp.tx
	ctx = context.WithoutCancel(ctx)
	for _, key := range sp.marked {
		p := tx.parts[key]
		if p == nil {
			continue
		}
		if _, err := p.sc.conn.Execute(ctx, "ROLLBACK TO SAVEPOINT "+quoteIdent(stmtSavepoint)); err != nil {
			return err
		}
	}
	for _, key := range tx.order[sp.before:] {
		tx.rollbackPart(ctx, key)
	}
	tx.order = tx.order[:sp.before]
	return nil
}

// joinedBefore tells whether key was among the first n participants.
func (t *transaction) joinedBefore(key shardKey, n int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range t.order[:min(n, len(t.order))] {
		if k == key {
			return true
		}
	}
	return false
}

// executeWrite runs a plain write (one shard call: INSERT, UPDATE,
// DELETE, REPLACE) inside the session's open transaction under the
// statement savepoint (see above), so a failure on one of its shards
// leaves nothing of it anywhere and the transaction goes on. A lock wait
// timeout or deadlock is not undone here: it ends the whole transaction
// (abortOnError), and so does a lost shard connection or a statement cut
// short (abortIfPrimaryChanged, endStatement).
func (s *session) executeWrite(ctx context.Context, plan *planner.Plan, vc *vcursor, args []any) (*engine.Result, error) {
	tx := s.tx
	vc.stmtSP = statementSavepoint{tx: tx, before: len(tx.order)}
	res, err := plan.Root.Execute(ctx, vc, args)
	sp := &vc.stmtSP
	if err == nil || !sp.armed || s.tx != tx || tx.aborted != nil {
		return res, err
	}
	if sqlerror.ClassOf(err) == sqlerror.Aborted || ctx.Err() != nil || tx.lostParticipant() {
		return nil, err
	}
	if undoErr := sp.undo(ctx); undoErr != nil {
		// Some shard keeps part of the statement: the transaction can't
		// go on consistently. It answers so until the client ends it,
		// rather than running its next statements in autocommit.
		tx.abort(ctx, errTxStatementNotUndone)
		return nil, errTxStatementNotUndone
	}
	return nil, err
}

// errTxStatementNotUndone answers a transaction whose failed statement
// could not be rolled back on every shard it reached.
var errTxStatementNotUndone = sqlerror.New(sqlerror.Aborted, mysql.ER_XA_RBROLLBACK, "Transaction was rolled back: a failed statement in it could not be undone on every shard; end it with ROLLBACK")
