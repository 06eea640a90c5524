// Package sqlerror owns the mapping of every error to the one MySQL error
// a client sees: a class (whose fault, can it be retried), a number, an
// SQLSTATE and a message.
//
// It imports only go-mysql's mysql package and the standard library —
// nothing of shardgate's, so that every package (tablet, topo, twopc,
// planner, gateway) can declare its errors with it — and it never does
// I/O. It is the only package that builds a *mysql.MyError; a test
// (handbuilt_test.go) fails if another one does, apart from the decoding
// of a server's ERR packet.
//
// # Classes
//
//	class        retryable  what                                   typical numbers
//	User         no         the statement or its data is wrong     1064 1146 1049 1062 1054 ...
//	Unsupported  no         valid SQL shardgate refuses            1235 (also 1295, 1148, 1047)
//	Unavailable  yes        a shard/tablet can't serve now         1105 (gateway's), 1290/1836 2013 1040 1053 (shard's)
//	Aborted      yes*       the shard rolled back on a conflict    1205 1213 1402 1613 1614
//	Interrupted  no         cancelled or past its deadline         1317 (1969, 3024 from a shard)
//	Internal     no         anything else; the zero Class          1105
//
// Unavailable is what query buffering holds on and what a client may retry
// later. A statement that failed on a broken connection may or may not
// have run on the shard, so a client retries a write only when running it
// twice is harmless or when it re-runs its whole transaction. (*) Aborted
// is retryable by the client only, by re-running the whole transaction:
// the shard has already rolled it (or the statement) back; the gateway
// rolls back what is left of the transaction on the other shards and
// never retries on its own.
//
// # Errors and what the client sees
//
// An answer (New, NotSupported) is built where the failure is understood
// and is sent as it is. A sentinel (NewSentinel) is a package's named
// failure, wrapped with %w; the client gets its number with the whole
// wrapped text. ToMyError picks, in the chain: the first answer or shard
// error (*mysql.MyError, classed by number, passed through untouched);
// else a context error, as 1317 Query execution was interrupted (70100);
// else the first sentinel; else 1105 with the error's text. ClassOf and
// IsRetryable follow the same choice.
//
// # Sentinels of other packages
//
//	tablet  ErrConnBroken, ErrPoolClosed             Unavailable  1105
//	        ErrReplicationNotRunning, ErrReplicationTimeout
//	                                                 Unavailable  1105
//	        ErrMultipleResults                       Unsupported  1235
//	        ErrLocalInfile                           Unsupported  1148
//	        ErrNotInstalled, ErrNotInitialized, ErrAlreadyRunning, ErrNotRunning
//	                                                 Internal     1105
//	topo    ErrInvalid, ErrNodeExists                User         1105
//	        ErrBadVersion                            Aborted      1105
//	        ErrNoNode, ErrNoUpdateNeeded             Internal     1105
//	twopc   ErrRolledBack                            Aborted      1402 XA_RBROLLBACK (XA100)
//	        ErrOutcomeUnknown, ErrNoRecord           Internal     1105
//
// Unavailable sentinels keep 1105/HY000 on purpose: the client-side
// numbers for a lost server (2006, 2013) make the mysql CLI and libmysql
// reconnect, and an 08xxx SQLSTATE makes JDBC drivers close the
// connection, while here only a shard is gone and the client's
// connection to the gateway is fine. The class, not the number, says
// "unavailable".
//
// vindex imports nothing of ours, so its sentinels (ErrUnmappable,
// ErrUnsupportedValue, ErrUnknownType, ErrInvalidKeyRange) stay plain
// errors, and so do topo/vschema's (a leaf that imports only vindex):
// neither reaches a client unwrapped — the planner turns a vindex's
// failure into a scatter or an internal error, and vschema errors come
// from operators' shardctl commands — so they are Internal if one ever
// does.
package sqlerror
