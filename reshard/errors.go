package reshard

import (
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// Sentinel errors, wrapped with %w after saying what they are about.
var (
	// ErrInvalid: a workflow request is wrong (shard ranges that don't
	// cover each other, a target without a primary, a table without a
	// primary key or primary vindex).
	ErrInvalid = sqlerror.NewSentinel(sqlerror.User, mysql.ER_UNKNOWN_ERROR, "reshard: invalid workflow")
	// ErrNotLeader: the runner lost its leadership while working; another
	// controller carries on.
	ErrNotLeader = sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "reshard: no longer the leading controller")
)
