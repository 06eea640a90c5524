package tablet

import "errors"

// Sentinel errors. Errors are wrapped with %w, so test them with errors.Is.
var (
	// ErrNotInstalled: mariadbd or mariadb-install-db is not on this
	// machine.
	ErrNotInstalled = errors.New("tablet: mariadbd not found: install mariadb-server (apt-get install -y mariadb-server)")
	// ErrNotInitialized: Start was called on a directory Init has not
	// prepared.
	ErrNotInitialized = errors.New("tablet: instance directory not initialised (call Init first)")
	// ErrAlreadyRunning: another process already runs mariadbd on this
	// instance directory.
	ErrAlreadyRunning = errors.New("tablet: mariadbd already running on this directory")
	// ErrNotRunning: the operation needs the instance started by this
	// Mysqld.
	ErrNotRunning = errors.New("tablet: mariadbd is not running")

	// ErrConnBroken: the connection failed (network error, malformed
	// packet, cancelled statement, abandoned result) and was closed. A
	// statement that failed this way may or may not have run.
	ErrConnBroken = errors.New("tablet: connection is broken")
	// ErrPoolClosed: Get on a closed Pool.
	ErrPoolClosed = errors.New("tablet: pool is closed")
	// ErrMultipleResults: the statement produced more than one result
	// (a multi-statement or a stored procedure); one statement per call is
	// supported. The connection stays usable.
	ErrMultipleResults = errors.New("tablet: statement returned more than one result")
	// ErrLocalInfile: the server asked for a LOAD DATA LOCAL INFILE
	// upload, which is not supported. The connection stays usable.
	ErrLocalInfile = errors.New("tablet: LOAD DATA LOCAL INFILE is not supported")
	// ErrReplicationNotRunning: the instance is a replica whose IO or SQL
	// thread is stopped.
	ErrReplicationNotRunning = errors.New("tablet: replication is not running")
	// ErrReplicationTimeout: WaitForPosition gave up before the replica
	// reached the position.
	ErrReplicationTimeout = errors.New("tablet: replica did not reach the position in time")
)
