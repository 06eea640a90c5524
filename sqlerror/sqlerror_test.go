package sqlerror_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// shardError is an error as a shard sends it (tablet decodes the ERR
// packet into go-mysql's type).
func shardError(code uint16, state, message string) *mysql.MyError {
	return &mysql.MyError{Code: code, State: state, Message: message}
}

func TestClassesAndNumbers(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		class     sqlerror.Class
		code      uint16
		state     string
		message   string
		retryable bool
	}{
		{"user", sqlerror.New(sqlerror.User, mysql.ER_NO_SUCH_TABLE, "Table '%s.%s' doesn't exist", "ks", "t"),
			sqlerror.User, 1146, "42S02", "Table 'ks.t' doesn't exist", false},
		{"not supported", sqlerror.NotSupported("LOCK TABLES"),
			sqlerror.Unsupported, 1235, "42000", "This version of shardgate doesn't yet support 'LOCK TABLES'", false},
		{"unavailable", sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "no primary tablet serving ks/-80"),
			sqlerror.Unavailable, 1105, "HY000", "no primary tablet serving ks/-80", true},
		{"internal", sqlerror.New(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "join: outer side returned %d columns", 0),
			sqlerror.Internal, 1105, "HY000", "join: outer side returned 0 columns", false},
		{"unclassified", errors.New("boom"),
			sqlerror.Internal, 1105, "HY000", "boom", false},
		{"state without a MySQL mapping", sqlerror.New(sqlerror.User, 3159, "insecure"),
			sqlerror.User, 3159, "HY000", "insecure", false},
		{"message with a percent sign", sqlerror.New(sqlerror.User, mysql.ER_PARSE_ERROR, "%s", "near '100%'"),
			sqlerror.User, 1064, "42000", "near '100%'", false},
		{"cancelled", context.Canceled,
			sqlerror.Interrupted, 1317, "70100", "Query execution was interrupted", false},
		{"deadline, wrapped", fmt.Errorf("shard ks/-80: %w", context.DeadlineExceeded),
			sqlerror.Interrupted, 1317, "70100", "Query execution was interrupted", false},
		{"shard deadlock", shardError(1213, "40001", "Deadlock found when trying to get lock; try restarting transaction"),
			sqlerror.Aborted, 1213, "40001", "Deadlock found when trying to get lock; try restarting transaction", true},
		{"shard lock wait timeout", shardError(1205, "HY000", "Lock wait timeout exceeded; try restarting transaction"),
			sqlerror.Aborted, 1205, "HY000", "Lock wait timeout exceeded; try restarting transaction", true},
		{"shard duplicate key", shardError(1062, "23000", "Duplicate entry '1' for key 'PRIMARY'"),
			sqlerror.User, 1062, "23000", "Duplicate entry '1' for key 'PRIMARY'", false},
		{"shard lost", shardError(2013, "HY000", "Lost connection to server during query"),
			sqlerror.Unavailable, 2013, "HY000", "Lost connection to server during query", true},
		{"shard read-only", shardError(1290, "HY000", "The MariaDB server is running with the --read-only option so it cannot execute this statement"),
			sqlerror.Unavailable, 1290, "HY000", "The MariaDB server is running with the --read-only option so it cannot execute this statement", true},
		{"shard killed", shardError(1317, "70100", "Query execution was interrupted"),
			sqlerror.Interrupted, 1317, "70100", "Query execution was interrupted", false},
		{"shard statement timeout", shardError(1969, "70100", "Query execution was interrupted (max_statement_time exceeded)"),
			sqlerror.Interrupted, 1969, "70100", "Query execution was interrupted (max_statement_time exceeded)", false},
		{"shard refusal", shardError(1235, "42000", "This version of MariaDB doesn't yet support 'x'"),
			sqlerror.Unsupported, 1235, "42000", "This version of MariaDB doesn't yet support 'x'", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			me := sqlerror.ToMyError(tt.err)
			if me.Code != tt.code || me.State != tt.state || me.Message != tt.message {
				t.Errorf("ToMyError(%v) = %d (%s) %q, want %d (%s) %q", tt.err, me.Code, me.State, me.Message, tt.code, tt.state, tt.message)
			}
			if got := sqlerror.ClassOf(tt.err); got != tt.class {
				t.Errorf("ClassOf(%v) = %v, want %v", tt.err, got, tt.class)
			}
			if got := sqlerror.IsRetryable(tt.err); got != tt.retryable {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.retryable)
			}
		})
	}
}

func TestNil(t *testing.T) {
	if me := sqlerror.ToMyError(nil); me != nil {
		t.Errorf("ToMyError(nil) = %v, want nil", me)
	}
	if sqlerror.IsRetryable(nil) {
		t.Error("IsRetryable(nil) = true, want false")
	}
	if got := sqlerror.ClassOf(nil); got != sqlerror.Internal {
		t.Errorf("ClassOf(nil) = %v, want internal", got)
	}
}

// An answer prints as the mysql CLI prints a server's error, like the
// *mysql.MyError it replaces (the planner's golden files hold this text).
func TestAnswerText(t *testing.T) {
	err := sqlerror.NotSupported("x")
	want := "ERROR 1235 (42000): This version of shardgate doesn't yet support 'x'"
	if err.Error() != want {
		t.Errorf("got %q, want %q", err.Error(), want)
	}
	if got := mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "This version of shardgate doesn't yet support 'x'").Error(); got != want {
		t.Errorf("go-mysql's text is %q, want %q (this package copies its format)", got, want)
	}
}

func TestWrapping(t *testing.T) {
	cause := shardError(1146, "42S02", "Table 'ks.t' doesn't exist")
	err := sqlerror.New(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "lookup vindex v: %w", cause)
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(%v, cause) = false, want true", err)
	}
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_UNKNOWN_ERROR {
		t.Errorf("errors.As(%v, *mysql.MyError) = %v, want the answer's own 1105 (outermost first)", err, me)
	}
	// The answer decides what the client sees, not the shard error under it.
	if got := sqlerror.ToMyError(err); got.Code != 1105 || got.Message != "lookup vindex v: ERROR 1146 (42S02): Table 'ks.t' doesn't exist" {
		t.Errorf("ToMyError = %d %q, want 1105 with the answer's message", got.Code, got.Message)
	}

	// Several %w.
	a, b := errors.New("a"), errors.New("b")
	both := sqlerror.New(sqlerror.User, mysql.ER_WRONG_ARGUMENTS, "%w and %w", a, b)
	if !errors.Is(both, a) || !errors.Is(both, b) {
		t.Errorf("errors.Is on both causes of %v: want true", both)
	}

	// Wrapped by the standard library, errors.As still reads an answer as
	// go-mysql's type (code checking numbers that way keeps working).
	wrapped := fmt.Errorf("x: %w", fmt.Errorf("y: %w", sqlerror.New(sqlerror.User, mysql.ER_DUP_ENTRY, "Duplicate entry '1' for key 'v'")))
	if !errors.As(wrapped, &me) || me.Code != mysql.ER_DUP_ENTRY || me.State != "23000" {
		t.Errorf("errors.As(%v) = %v, want 1062 (23000)", wrapped, me)
	}
	var se *sqlerror.Error
	if !errors.As(wrapped, &se) || se.Class() != sqlerror.User {
		t.Errorf("errors.As(%v, *sqlerror.Error) = %v, want a User error", wrapped, se)
	}
}

func TestSentinel(t *testing.T) {
	errGone := sqlerror.NewSentinel(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "tablet: connection is broken")
	if errGone.Error() != "tablet: connection is broken" {
		t.Errorf("sentinel text: got %q, want the bare message", errGone.Error())
	}
	err := fmt.Errorf("%w: 127.0.0.1:3306: %w", errGone, io.EOF)
	var me *mysql.MyError
	if errors.As(err, &me) {
		t.Errorf("errors.As(%v, *mysql.MyError) = %v, want false: a sentinel is no MySQL error of its own", err, me)
	}
	got := sqlerror.ToMyError(err)
	if got.Code != 1105 || got.State != "HY000" || got.Message != "tablet: connection is broken: 127.0.0.1:3306: EOF" {
		t.Errorf("ToMyError(%v) = %d (%s) %q, want 1105 (HY000) with the whole text", err, got.Code, got.State, got.Message)
	}
	if !sqlerror.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = false, want true", err)
	}

	// A shard's own error under the sentinel is more precise: it wins.
	deadlock := shardError(1213, "40001", "Deadlock found")
	prepare := fmt.Errorf("%w: %w", errGone, deadlock)
	if got := sqlerror.ToMyError(prepare); got != deadlock {
		t.Errorf("ToMyError(%v) = %v, want the shard's error itself", prepare, got)
	}
	// A cancelled statement ends as a broken connection: it was interrupted.
	cancelled := fmt.Errorf("%w: 127.0.0.1:3306: %w", errGone, context.Canceled)
	if got := sqlerror.ToMyError(cancelled); got.Code != 1317 {
		t.Errorf("ToMyError(%v) = %d, want 1317", cancelled, got.Code)
	}
	if got := sqlerror.ClassOf(cancelled); got != sqlerror.Interrupted {
		t.Errorf("ClassOf(%v) = %v, want interrupted", cancelled, got)
	}
}

func TestClassString(t *testing.T) {
	for c, want := range map[sqlerror.Class]string{
		sqlerror.Internal: "internal", sqlerror.User: "user", sqlerror.Unsupported: "unsupported",
		sqlerror.Unavailable: "unavailable", sqlerror.Aborted: "aborted", sqlerror.Interrupted: "interrupted",
		sqlerror.Class(42): "class(42)",
	} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", c, got, want)
		}
	}
}
