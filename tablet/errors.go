package tablet

import (
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// Sentinel errors. Errors are wrapped with %w, so test them with errors.Is.
// Each carries the class and MySQL number a client gets for it
// (sqlerror): the instance-management ones are internal (they never come
// from a client's statement), a failed connection or closed pool is
// unavailable (retryable: a new connection or a new primary may serve).
var (
	// ErrNotInstalled: mariadbd or mariadb-install-db is not on this
	// machine.
	ErrNotInstalled = sqlerror.NewSentinel(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "tablet: mariadbd not found: install mariadb-server (apt-get install -y mariadb-server)")
	// ErrNotInitialized: Start was called on a directory Init has not
	// prepared.
	ErrNotInitialized = sqlerror.NewSentinel(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "tablet: instance directory not initialised (call Init first)")
	// ErrAlreadyRunning: another process already runs mariadbd on this
	// instance directory.
	ErrAlreadyRunning = sqlerror.NewSentinel(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "tablet: mariadbd already running on this directory")
	// ErrNotRunning: the operation needs the instance started by this
	// Mysqld.
	ErrNotRunning = sqlerror.NewSentinel(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "tablet: mariadbd is not running")

	// ErrConnBroken: the connection failed (network error, malformed
	// packet, cancelled statement, abandoned result) and was closed. A
	// statement that failed this way may or may not have run.
	ErrConnBroken = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "tablet: connection is broken")
	// ErrStaleConn: a connection the pool handed out without its
	// liveness check (PoolConfig.TrustReturnedFor) failed before the
	// server answered anything: most likely the server had closed it
	// while it was idle (KILL, a restart), and the statement never
	// reached it; but a server that died while running the statement
	// looks the same. Errors wrapping it wrap ErrConnBroken too. A
	// caller may run the statement again on another connection where a
	// second run is harmless (a read outside a transaction).
	ErrStaleConn = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "tablet: connection was closed before the server answered")
	// ErrPoolClosed: Get on a closed Pool.
	ErrPoolClosed = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "tablet: pool is closed")
	// ErrPoolWaitTimeout: Get waited PoolConfig.WaitTimeout while every
	// connection was in use. Unavailable: retrying later may find one free.
	ErrPoolWaitTimeout = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "tablet: timed out waiting for a free connection")
	// ErrMultipleResults: the statement produced more than one result
	// (a multi-statement or a stored procedure); one statement per call is
	// supported. The connection stays usable.
	ErrMultipleResults = sqlerror.NewSentinel(sqlerror.Unsupported, mysql.ER_NOT_SUPPORTED_YET, "tablet: statement returned more than one result")
	// ErrLocalInfile: the server asked for a LOAD DATA LOCAL INFILE
	// upload, which is not supported (1148, as a server with local_infile
	// off says). The connection stays usable.
	ErrLocalInfile = sqlerror.NewSentinel(sqlerror.Unsupported, mysql.ER_NOT_ALLOWED_COMMAND, "tablet: LOAD DATA LOCAL INFILE is not supported")
	// ErrReplicationNotRunning: the instance is a replica whose IO or SQL
	// thread is stopped.
	ErrReplicationNotRunning = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "tablet: replication is not running")
	// ErrReplicationTimeout: WaitForPosition gave up before the replica
	// reached the position.
	ErrReplicationTimeout = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "tablet: replica did not reach the position in time")
)
