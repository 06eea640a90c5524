package planner

import (
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// Every error the planner returns to a client is a sqlerror answer: class,
// number, SQLSTATE and a MySQL-like message (errors.As still reads it as a
// *mysql.MyError). Internal sentinels below never reach a client unwrapped.

var errParamNotNumbered = errors.New("planner: parameter marker outside the statement's visited tree")

// unsupported refuses a construct the planner cannot serve exactly.
func unsupported(construct string) error {
	return sqlerror.NotSupported(construct)
}

func unsupportedf(format string, args ...any) error {
	return unsupported(fmt.Sprintf(format, args...))
}

// refusedf is a 1235 refusal whose message is a whole sentence (used where
// naming a construct alone would not tell the user what to change).
func refusedf(format string, args ...any) error {
	return sqlerror.New(sqlerror.Unsupported, mysql.ER_NOT_SUPPORTED_YET, format, args...)
}

func errNoSuchTable(keyspace, table string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_NO_SUCH_TABLE, "Table '%s.%s' doesn't exist", keyspace, table)
}

func errNoDB() error {
	return sqlerror.New(sqlerror.User, mysql.ER_NO_DB_ERROR, "No database selected")
}

func errBadDB(keyspace string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_BAD_DB_ERROR, "Unknown database '%s'", keyspace)
}

// errInternal is ER_UNKNOWN_ERROR (1105, SQLSTATE HY000) for failures that
// are neither the user's SQL nor a refusal: a bad argument type, a shard map
// with a hole, an error from a vindex.
func errInternal(format string, args ...any) error {
	return sqlerror.New(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, format, args...)
}

func errBadField(name string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_BAD_FIELD_ERROR, "Unknown column '%s' in 'field list'", name)
}
