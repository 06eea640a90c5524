package gateway

import "github.com/shardgate/shardgate/sqlerror"

// handlerError is err as go-mysql's server needs it from a Handler method
// it calls itself (UseDB, HandleOtherCommand, HandleStmtPrepare): it sends
// a *mysql.MyError as it is but anything else as 1105 with the error's
// text, so every error goes through sqlerror.ToMyError first. nil stays
// nil (a nil *mysql.MyError in an error would not be).
func handlerError(err error) error {
	if err == nil {
		return nil
	}
	return sqlerror.ToMyError(err)
}
