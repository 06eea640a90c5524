package engine

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// Every error a primitive returns to a client is a sqlerror answer: class,
// number, SQLSTATE and a MySQL-like message. These helpers have the names
// and messages of the planner's (planner/errors.go), so both packages refuse
// and fail alike; an error a VCursor returns is passed on unchanged.

// ErrNoteAutoVindex is the warning code attached when CREATE TABLE made the
// gateway add a vschema entry (ER_UNKNOWN_ERROR, used by Vitess and TiDB for
// free-text notes too).
const ErrNoteAutoVindex = mysql.ER_UNKNOWN_ERROR

// unsupported refuses a construct the engine cannot serve exactly.
func unsupported(construct string) error {
	return sqlerror.NotSupported(construct)
}

func unsupportedf(format string, args ...any) error {
	return unsupported(fmt.Sprintf(format, args...))
}

// refusedf is a 1235 refusal whose message is a whole sentence.
func refusedf(format string, args ...any) error {
	return sqlerror.New(sqlerror.Unsupported, mysql.ER_NOT_SUPPORTED_YET, format, args...)
}

// errInternal is ER_UNKNOWN_ERROR (1105, SQLSTATE HY000) for failures that
// are neither the user's SQL nor a refusal: a bad argument type, a shard map
// with a hole, an error from a vindex.
func errInternal(format string, args ...any) error {
	return sqlerror.New(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, format, args...)
}

// errWrongArgs is returned when Execute gets fewer arguments than the plan's
// ParamCount (ER_WRONG_ARGUMENTS is what mysqld says for a bad COM_STMT_EXECUTE).
func errWrongArgs(want, got int) error {
	return sqlerror.New(sqlerror.User, mysql.ER_WRONG_ARGUMENTS,
		"Incorrect arguments to mysqld_stmt_execute: plan needs %d, got %d", want, got)
}

func errWrongArgs2(where string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_WRONG_ARGUMENTS, "Incorrect arguments to %s", where)
}
