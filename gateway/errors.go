package gateway

import (
	"context"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// ER_QUERY_INTERRUPTED (1317, SQLSTATE 70100): the statement was cancelled
// or ran past its deadline.
const erQueryInterrupted = 1317

// toMyError turns any error into the one MySQL error the client sees. Errors
// the shards sent, and the planner's refusals, already are MySQL errors and
// keep their number; anything else is ER_UNKNOWN_ERROR (1105).
func toMyError(err error) *mysql.MyError {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &mysql.MyError{Code: erQueryInterrupted, State: "70100", Message: "Query execution was interrupted"}
	}
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, err.Error())
}

// notSupported is ER_NOT_SUPPORTED_YET (1235) naming what is unsupported.
func notSupported(what string) *mysql.MyError {
	return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "This version of shardgate doesn't yet support '"+what+"'")
}
