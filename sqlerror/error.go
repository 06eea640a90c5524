package sqlerror

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Error is an error with a class and the MySQL error a client sees for it.
//
// It comes in two kinds:
//   - an answer (New, NotSupported): built where the failure is understood;
//     its message is the whole message the client gets, and its Error text
//     is what the mysql CLI prints ("ERROR 1235 (42000): ..."). errors.As
//     can read it as a *mysql.MyError, as code written before this package
//     expects.
//   - a sentinel (NewSentinel): a package's named failure ("tablet:
//     connection is broken"), compared with errors.Is and wrapped with %w
//     by the code that returns it. Its Error text is the bare message, so
//     wrapping reads naturally, and the client gets the whole wrapped text.
type Error struct {
	class    Class
	code     uint16
	message  string
	causes   []error
	sentinel bool
}

var _ error = (*Error)(nil)

// New is an answer of the given class with a MySQL number, the SQLSTATE
// MySQL uses for that number (HY000 if it has none) and a message
// formatted as by fmt.Errorf: a %w verb makes the argument its cause.
func New(class Class, code uint16, format string, args ...any) *Error {
	formatted := fmt.Errorf(format, args...)
	var causes []error
	switch w := formatted.(type) {
	case interface{ Unwrap() error }:
		causes = []error{w.Unwrap()}
	case interface{ Unwrap() []error }:
		causes = w.Unwrap()
	}
	return &Error{class: class, code: code, message: formatted.Error(), causes: causes}
}

// NotSupported refuses a construct shardgate cannot serve exactly:
// ER_NOT_SUPPORTED_YET (1235, 42000) naming it.
func NotSupported(what string) *Error {
	return New(Unsupported, mysql.ER_NOT_SUPPORTED_YET, "This version of shardgate doesn't yet support '%s'", what)
}

// NewSentinel is a package's sentinel error: declare it once in a var and
// wrap it with %w where it is returned. A client that gets it sees the
// number code with the whole wrapped message, unless something more
// precise is in the chain (see ToMyError).
func NewSentinel(class Class, code uint16, message string) *Error {
	return &Error{class: class, code: code, message: message, sentinel: true}
}

// Error is "ERROR number (state): message" for an answer, as MySQL clients
// print it, and the bare message for a sentinel.
func (e *Error) Error() string {
	if e.sentinel {
		return e.message
	}
	return fmt.Sprintf("ERROR %d (%s): %s", e.code, stateOf(e.code), e.message)
}

// Unwrap returns the causes a %w in New's format named.
func (e *Error) Unwrap() []error { return e.causes }

// As lets errors.As read an answer as a *mysql.MyError, so code that
// checks numbers that way (a duplicate key, a deadlock) keeps working. A
// sentinel is no MySQL error of its own: what it wraps may be one.
func (e *Error) As(target any) bool {
	p, ok := target.(**mysql.MyError)
	if !ok || e.sentinel {
		return false
	}
	*p = newMyError(e.code, e.message)
	return true
}

// Class is the error's class.
func (e *Error) Class() Class { return e.class }

// newMyError is the one place shardgate builds a *mysql.MyError.
func newMyError(code uint16, message string) *mysql.MyError {
	return &mysql.MyError{Code: code, State: stateOf(code), Message: message}
}

func stateOf(code uint16) string {
	if s, ok := mysql.MySQLState[code]; ok {
		return s
	}
	switch code {
	case erConnectionKilled, erStatementTimeout:
		// MariaDB's numbers, which go-mysql's table lacks.
		return "70100"
	}
	return mysql.DEFAULT_MYSQL_STATE
}
