package engine

import (
	"github.com/go-mysql-org/go-mysql/mysql"
)

// SessionActions is what the primitives that answer from the gateway's
// own state ask of it (Vitess's SessionActions): the topology as SHOW
// shows it and the session's warnings and ids. The gateway's VCursor
// returns its session from VCursor.Session; offline cursors return nil,
// and these primitives then refuse to run.
type SessionActions interface {
	// Keyspaces lists every keyspace of the topology, sorted by name.
	Keyspaces() []KeyspaceInfo
	// Tablets lists every tablet of the topology, sorted by alias.
	Tablets() []TabletInfo
	// ShowWarnings returns the previous statement's warnings and keeps
	// them as this statement's, so a second SHOW WARNINGS shows them too
	// (as in MySQL).
	ShowWarnings() []Warning
	// LastInsertID is the id the session's last insert generated.
	LastInsertID() uint64
	// ConnectionID is the client connection's id (the one KILL takes).
	ConnectionID() uint64
	// Processes lists the gateway's client sessions the session may see
	// (SHOW PROCESSLIST), by id.
	Processes() []ProcessInfo
	// Grants is SHOW GRANTS: the grants of user ("" is the session's
	// own) as GRANT statements, and the account as the column names it
	// ("name@host"); an error when the user has none to show.
	Grants(user string) (account string, grants []string, err error)
}

// ProcessInfo is one client session as SHOW PROCESSLIST shows it.
type ProcessInfo struct {
	ID             uint64
	User, Host, DB string
	// Command is "Query" while a statement runs, else "Sleep".
	Command string
	// Seconds since the running statement began, or since the last one
	// ended.
	Seconds uint64
	// Info is the running statement's text, "" when none.
	Info string
}

// KeyspaceInfo is one keyspace as SHOW VITESS_KEYSPACES/SHARDS show it.
type KeyspaceInfo struct {
	Name    string
	Sharded bool
	// Shards are all the keyspace's shards in key order, serving or not.
	Shards []string
}

// TabletInfo is one tablet as SHOW VITESS_TABLETS shows it.
type TabletInfo struct {
	Cell, Keyspace, Shard, Type, Alias, Host string
	// State is SERVING or NOT_SERVING ("" shows SERVING).
	State string
	// Health is "healthy", what is wrong ("lag 45s over the 30s limit"),
	// or "" when no health record is known (shown as unknown).
	Health string
	// LagSeconds is the replication lag; nil is unknown or no replica.
	LagSeconds *int64
	// Replication, ReadOnly, GTIDPosition and CheckedAt come from the
	// health record; "" when there is none.
	Replication, ReadOnly, GTIDPosition, CheckedAt string
}

// Warning is a warning or note of a statement, as SHOW WARNINGS shows it.
type Warning struct {
	Level   string
	Code    uint16
	Message string
}

func errNoSession(what string) error {
	return errInternal("%s needs a session", what)
}

// TextFields are the columns of results the gateway makes itself
// (SHOW VITESS_SHARDS, SHOW WARNINGS, VEXPLAIN): utf8mb4 strings.
func TextFields(names ...string) []*mysql.Field {
	fields := make([]*mysql.Field, len(names))
	for i, n := range names {
		fields[i] = &mysql.Field{
			Name:         []byte(n),
			OrgName:      []byte(n),
			Charset:      utf8mb4GeneralCICollation,
			ColumnLength: 1024,
			Type:         mysql.MYSQL_TYPE_VAR_STRING,
		}
	}
	return fields
}

// UintField is an unsigned BIGINT column of a result the gateway makes.
func UintField(name string) *mysql.Field {
	return &mysql.Field{
		Name:         []byte(name),
		OrgName:      []byte(name),
		Charset:      binaryCollation,
		ColumnLength: 20,
		Type:         mysql.MYSQL_TYPE_LONGLONG,
		Flag:         mysql.UNSIGNED_FLAG | mysql.NOT_NULL_FLAG,
	}
}

// Collation ids of the columns the gateway makes.
const (
	utf8mb4GeneralCICollation = 45
	binaryCollation           = 63
)
