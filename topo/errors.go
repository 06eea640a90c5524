package topo

import (
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// Sentinel errors. Store methods wrap them with %w after saying which node
// they were about; match them with errors.Is. Their classes (sqlerror)
// matter when one reaches a client through the gateway: a statement works
// on a topology snapshot, so a missing node there is internal, a lost race
// is aborted (retry the whole operation) and a bad argument is the user's.
var (
	// ErrNoNode: the keyspace, shard, tablet or serving keyspace named
	// doesn't exist (or, for a create, the parent it needs doesn't).
	ErrNoNode = sqlerror.NewSentinel(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "topo: node doesn't exist")
	// ErrNodeExists: a create found the node already there.
	ErrNodeExists = sqlerror.NewSentinel(sqlerror.User, mysql.ER_UNKNOWN_ERROR, "topo: node already exists")
	// ErrBadVersion: a read-modify-write lost the race to concurrent
	// writers too many times in a row.
	ErrBadVersion = sqlerror.NewSentinel(sqlerror.Aborted, mysql.ER_UNKNOWN_ERROR, "topo: node was changed concurrently (bad version)")
	// ErrNoUpdateNeeded may be returned by the function given to an Update
	// method: the node is already as wanted, nothing is written, and the
	// Update method returns nil.
	ErrNoUpdateNeeded = sqlerror.NewSentinel(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "topo: no update needed")
	// ErrInvalid: an argument (a name, an address, a vschema that doesn't
	// match its keyspace) is malformed.
	ErrInvalid = sqlerror.NewSentinel(sqlerror.User, mysql.ER_UNKNOWN_ERROR, "topo: invalid argument")
)
