package gateway

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// txMode is a session's transaction_mode: how a transaction that spans
// shards (and an autocommit statement that writes to several) commits.
type txMode uint8

const (
	// modeTwoPC commits atomically with XA two-phase commit (default).
	modeTwoPC txMode = iota
	// modeMulti commits shard by shard, best effort.
	modeMulti
	// modeSingle refuses to span shards at all.
	modeSingle
)

var txModeNames = [...]string{modeTwoPC: "twopc", modeMulti: "multi", modeSingle: "single"}

func (m txMode) String() string { return txModeNames[m] }

// ParseTransactionMode parses 'single', 'multi' or 'twopc' (any case).
func parseTxMode(s string) (txMode, error) {
	for m, name := range txModeNames {
		if strings.EqualFold(s, name) {
			return txMode(m), nil
		}
	}
	return 0, sqlerror.New(sqlerror.User, mysql.ER_WRONG_VALUE_FOR_VAR, "Variable 'transaction_mode' can't be set to the value of '%s'", s)
}

// ValidTransactionMode tells whether s is a transaction mode, for flag
// checking in cmd/.
func ValidTransactionMode(s string) bool {
	_, err := parseTxMode(s)
	return err == nil
}

// setTxMode handles SET transaction_mode. Changing it inside a
// transaction is refused, like SET TRANSACTION READ ONLY in MySQL.
func (s *session) setTxMode(value string) error {
	m, err := parseTxMode(strings.Trim(value, "'\"`"))
	if err != nil {
		return err
	}
	if s.tx != nil && len(s.tx.order) > 0 && m != s.tx.mode {
		return sqlerror.New(sqlerror.User, mysql.ER_CANT_CHANGE_TX_CHARACTERISTICS, "transaction_mode can't be changed while a transaction is in progress")
	}
	if m == modeTwoPC && s.srv.coord == nil {
		return sqlerror.New(sqlerror.User, mysql.ER_WRONG_VALUE_FOR_VAR, "Variable 'transaction_mode' can't be set to the value of 'twopc': this gateway has no etcd-backed coordinator")
	}
	s.txMode = m
	if s.tx != nil && len(s.tx.order) == 0 && s.tx.mode != m {
		// Nothing ran yet: begin it again in the new mode.
		s.tx = s.srv.newTx(m, s.tx.isolation)
	}
	return nil
}

// savepoint is a SAVEPOINT of a transaction: its name and how many
// participants the transaction had when it was set.
type savepoint struct {
	name string
	n    int
}

func (t *transaction) findSavepoint(name string) int {
	for i := len(t.savepoints) - 1; i >= 0; i-- {
		if strings.EqualFold(t.savepoints[i].name, name) {
			return i
		}
	}
	return -1
}

func errNoSavepoint(name string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_SP_DOES_NOT_EXIST, "SAVEPOINT %s does not exist", name)
}

// onParts runs stmt on the first n participants (in join order).
func (t *transaction) onParts(ctx context.Context, n int, stmt string) error {
	for _, key := range t.order[:n] {
		if _, err := t.parts[key].sc.conn.Execute(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// setSavepoint sets the savepoint on every participant. A savepoint of
// the same name is replaced, as in MySQL.
func (t *transaction) setSavepoint(ctx context.Context, name string) error {
	if err := t.onParts(ctx, len(t.order), "SAVEPOINT "+quoteIdent(name)); err != nil {
		return err
	}
	if i := t.findSavepoint(name); i >= 0 {
		t.savepoints = append(t.savepoints[:i], t.savepoints[i+1:]...)
	}
	t.savepoints = append(t.savepoints, savepoint{name: name, n: len(t.order)})
	return nil
}

// rollbackTo undoes the work since the savepoint: participants that
// existed when it was set roll back to it; shards that joined after it
// roll back entirely and leave the transaction (they had nothing before
// the savepoint). Later savepoints are forgotten; this one stays.
func (t *transaction) rollbackTo(ctx context.Context, name string) error {
	i := t.findSavepoint(name)
	if i < 0 {
		return errNoSavepoint(name)
	}
	sp := t.savepoints[i]
	if err := t.onParts(ctx, sp.n, "ROLLBACK TO SAVEPOINT "+quoteIdent(name)); err != nil {
		return err
	}
	for _, key := range t.order[sp.n:] {
		t.rollbackPart(ctx, key)
	}
	t.order = t.order[:sp.n]
	t.savepoints = t.savepoints[:i+1]
	return nil
}

// releaseSavepoint forgets the savepoint and the later ones.
func (t *transaction) releaseSavepoint(ctx context.Context, name string) error {
	i := t.findSavepoint(name)
	if i < 0 {
		return errNoSavepoint(name)
	}
	if err := t.onParts(ctx, t.savepoints[i].n, "RELEASE SAVEPOINT "+quoteIdent(name)); err != nil {
		return err
	}
	t.savepoints = t.savepoints[:i]
	return nil
}

// execSavepoint handles SAVEPOINT, ROLLBACK TO and RELEASE. Outside a
// transaction with autocommit on, SAVEPOINT does nothing (as in MySQL)
// and the others fail with 1305.
func (s *session) execSavepoint(ctx context.Context, verb, name string) error {
	if s.tx == nil {
		if s.autocommit || s.tabletType != "primary" {
			if verb == "SAVEPOINT" {
				return nil
			}
			return errNoSavepoint(name)
		}
		s.tx = s.newTransaction()
	}
	switch verb {
	case "SAVEPOINT":
		return s.tx.setSavepoint(ctx, name)
	case "ROLLBACK TO":
		return s.tx.rollbackTo(ctx, name)
	default:
		return s.tx.releaseSavepoint(ctx, name)
	}
}

// armIdleTimeout, called before the session waits for its client's next
// command, sets a read deadline when the session sits in an open
// transaction and the gateway has a TwoPC.IdleTimeout: a client idle for
// longer fails the read, the connection is closed and the session's
// goroutine rolls the transaction back on every shard (session.close),
// returning the connections. The returned func clears the deadline.
func (s *session) armIdleTimeout(nc net.Conn) func() {
	d := s.srv.cfg.TwoPC.IdleTimeout
	if d <= 0 || s.tx == nil {
		return func() {}
	}
	_ = nc.SetReadDeadline(time.Now().Add(d))
	return func() { _ = nc.SetReadDeadline(time.Time{}) }
}
