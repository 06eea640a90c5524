package topo

import "errors"

// Sentinel errors. Store methods wrap them with %w after saying which node
// they were about; match them with errors.Is.
var (
	// ErrNoNode: the keyspace, shard, tablet or serving keyspace named
	// doesn't exist (or, for a create, the parent it needs doesn't).
	ErrNoNode = errors.New("topo: node doesn't exist")
	// ErrNodeExists: a create found the node already there.
	ErrNodeExists = errors.New("topo: node already exists")
	// ErrBadVersion: a read-modify-write lost the race to concurrent
	// writers too many times in a row.
	ErrBadVersion = errors.New("topo: node was changed concurrently (bad version)")
	// ErrNoUpdateNeeded may be returned by the function given to an Update
	// method: the node is already as wanted, nothing is written, and the
	// Update method returns nil.
	ErrNoUpdateNeeded = errors.New("topo: no update needed")
	// ErrInvalid: an argument (a name, an address, a vschema that doesn't
	// match its keyspace) is malformed.
	ErrInvalid = errors.New("topo: invalid argument")
)
