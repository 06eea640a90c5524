package sqlerror

import (
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Class says what kind of failure an error is, independent of its MySQL
// number: whose fault it is and whether trying again can help.
type Class uint8

const (
	// Internal: a failure that is neither the user's SQL nor a refusal nor
	// a known unavailability — a bug, an impossible state, or an error
	// nobody classified. The zero Class, so an unclassified error is
	// internal.
	Internal Class = iota
	// User: the statement or its data is wrong (syntax, unknown table,
	// duplicate key, bad value). The same statement fails again.
	User
	// Unsupported: the statement is valid SQL that shardgate refuses to run
	// because it cannot serve it exactly (typically 1235).
	Unsupported
	// Unavailable: a shard or tablet cannot be reached or serve now (no
	// serving primary, connection broken, pool closed, replica lagging).
	// Retryable: buffering holds statements on it during a failover, and a
	// client may try again later.
	Unavailable
	// Aborted: the shard rolled back the transaction or the statement
	// because of a conflict (deadlock, lock wait timeout, an XA branch
	// rolled back). Retryable by the client, which must re-run the whole
	// transaction; never retried by the gateway, which would replay one
	// statement of a transaction that is gone.
	Aborted
	// Interrupted: the statement was cancelled (client gone, KILL QUERY) or
	// ran past its deadline (1317). Not retryable: it would run as long
	// again.
	Interrupted
)

// String is the class's name as logs and metrics label it.
func (c Class) String() string {
	switch c {
	case Internal:
		return "internal"
	case User:
		return "user"
	case Unsupported:
		return "unsupported"
	case Unavailable:
		return "unavailable"
	case Aborted:
		return "aborted"
	case Interrupted:
		return "interrupted"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Retryable tells the classes where the same work can succeed later:
// Unavailable (the shard comes back or a new primary is named) and Aborted
// (the conflicting transaction is gone).
func (c Class) Retryable() bool {
	return c == Unavailable || c == Aborted
}

// MySQL numbers a shard may return, and the ones a client library reports
// when the server connection fails, that are not user errors. go-mysql has
// no constants for the client (CR_*) and MariaDB-only numbers.
const (
	erStatementTimeout = 1969 // MariaDB ER_STATEMENT_TIMEOUT (max_statement_time)
	erConnectionKilled = 1927 // MariaDB ER_CONNECTION_KILLED
	erReadOnlyMode     = 1836 // ER_READ_ONLY_MODE
	erQueryTimeout     = 3024 // MySQL ER_QUERY_TIMEOUT (max_execution_time)
	crConnectionError  = 2002 // CR_CONNECTION_ERROR
	crConnHostError    = 2003 // CR_CONN_HOST_ERROR
	crServerGoneError  = 2006 // CR_SERVER_GONE_ERROR
	crServerLost       = 2013 // CR_SERVER_LOST
)

// classOfNumber classes an error a shard returned by its number alone: the
// message is the server's and is never parsed.
func classOfNumber(code uint16) Class {
	switch code {
	case mysql.ER_LOCK_WAIT_TIMEOUT, mysql.ER_LOCK_DEADLOCK,
		mysql.ER_XA_RBROLLBACK, mysql.ER_XA_RBTIMEOUT, mysql.ER_XA_RBDEADLOCK:
		return Aborted
	case mysql.ER_QUERY_INTERRUPTED, erStatementTimeout, erQueryTimeout, erConnectionKilled:
		return Interrupted
	case mysql.ER_CON_COUNT_ERROR, mysql.ER_SERVER_SHUTDOWN,
		mysql.ER_NET_READ_ERROR, mysql.ER_NET_READ_INTERRUPTED,
		mysql.ER_NET_ERROR_ON_WRITE, mysql.ER_NET_WRITE_INTERRUPTED,
		crConnectionError, crConnHostError, crServerGoneError, crServerLost:
		return Unavailable
	case mysql.ER_OPTION_PREVENTS_STATEMENT, erReadOnlyMode:
		// From a shard this is read_only: a primary being demoted or not
		// yet promoted during a reparent, which buffering waits out. (The
		// gateway's own refusal of a write to an @replica target uses the
		// same number but is built as a User error.)
		return Unavailable
	case mysql.ER_NOT_SUPPORTED_YET:
		return Unsupported
	case mysql.ER_UNKNOWN_ERROR:
		return Internal
	}
	return User
}
