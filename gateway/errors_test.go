package gateway

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// go-mysql's server sends a handler's error as it is only when the error
// is a *mysql.MyError (a type assertion, not errors.As), and a nil
// *mysql.MyError in an error interface would be an error.
func TestHandlerError(t *testing.T) {
	if err := handlerError(nil); err != nil {
		t.Errorf("handlerError(nil) = %#v, want nil", err)
	}
	in := fmt.Errorf("use: %w", sqlerror.New(sqlerror.User, mysql.ER_BAD_DB_ERROR, "Unknown database '%s'", "nope"))
	me, ok := handlerError(in).(*mysql.MyError)
	if !ok || me.Code != mysql.ER_BAD_DB_ERROR || me.State != "42000" || me.Message != "Unknown database 'nope'" {
		t.Errorf("handlerError(%v) = %#v, want *mysql.MyError 1049 (42000) Unknown database 'nope'", in, me)
	}
	if me, ok := handlerError(errors.New("boom")).(*mysql.MyError); !ok || me.Code != mysql.ER_UNKNOWN_ERROR {
		t.Errorf("handlerError(boom) = %#v, want *mysql.MyError 1105", me)
	}
}
