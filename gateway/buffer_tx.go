package gateway

import (
	"context"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// errPrimaryChanged marks the answer a transaction gets when a shard it
// had begun on changed primary under it (failover, reparent): its work
// there is gone with the old primary's connection (the gateway severs
// it), so it cannot go on on the new one. The session rolls it back
// everywhere and answers so until the client ends it, as for a statement
// cut short (errTxInterrupted).
var errPrimaryChanged = sqlerror.NewSentinel(sqlerror.Aborted, mysql.ER_XA_RBROLLBACK, "the primary changed under the transaction")

func errTxPrimaryChanged(k shardKey) error {
	return sqlerror.New(sqlerror.Aborted, mysql.ER_XA_RBROLLBACK,
		"Transaction was rolled back: %w on shard %s/%s (failover or reparent); it cannot continue on the new primary; end it with ROLLBACK",
		errPrimaryChanged, k.keyspace, k.shard)
}

// errTxConnectionLost answers a transaction whose shard connection broke
// under a statement (the gateway severs a former primary's connections).
var errTxConnectionLost = sqlerror.New(sqlerror.Aborted, mysql.ER_XA_RBROLLBACK,
	"Transaction was rolled back: %w or its connection to a shard's primary was lost (failover or reparent); end it with ROLLBACK", errPrimaryChanged)

// joinedConn returns the transaction's connection to the shard if it has
// begun there; nil if not.
func (t *transaction) joinedConn(k shardKey) *shardConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.parts[k]; p != nil {
		return p.sc
	}
	return nil
}

// abortIfPrimaryChanged keeps an open transaction, rolled back, answering
// err when err says its primary changed (abortOnError would end it, and
// the client's next statements would run outside any transaction), or
// when a statement failed on a broken shard connection of it. It reports
// the error the client sees.
func (s *session) abortIfPrimaryChanged(ctx context.Context, err error) error {
	if err == nil || s.tx == nil || s.tx.aborted != nil {
		return err
	}
	if errors.Is(err, errPrimaryChanged) {
		s.tx.abort(context.WithoutCancel(ctx), err)
		return err
	}
	if ctx.Err() == nil && s.tx.lostParticipant() {
		s.tx.abort(context.WithoutCancel(ctx), errTxConnectionLost)
		return errTxConnectionLost
	}
	return err
}
