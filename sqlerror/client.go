package sqlerror

import (
	"context"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// ToMyError turns any error into the one MySQL error a client sees. The
// error's chain (followed as errors.As does, outermost first) decides:
//
//  1. the first answer in it — an Error made by New or NotSupported, or a
//     *mysql.MyError a shard returned — is sent as it is: the shard's
//     number, SQLSTATE and message pass through untouched;
//  2. else a context cancellation or deadline is ER_QUERY_INTERRUPTED
//     (1317, 70100);
//  3. else the first sentinel gives its number and SQLSTATE, with the whole
//     wrapped text as the message (it says which shard, which node);
//  4. else ER_UNKNOWN_ERROR (1105, HY000) with the error's text.
//
// An answer beats a context error because a shard killed by the
// cancellation answers 1317 itself, and a refusal made before the
// cancellation is still the truth; a context error beats a sentinel
// because "connection broken" is only how a cancelled statement ended.
// ToMyError(nil) is nil.
func ToMyError(err error) *mysql.MyError {
	if err == nil {
		return nil
	}
	_, me := judge(err)
	return me
}

// ClassOf is the class of the error ToMyError would send for err (the
// same rules pick it); a shard's error is classed by its number. nil is
// Internal: check err != nil first.
func ClassOf(err error) Class {
	if err == nil {
		return Internal
	}
	class, _ := judge(err)
	return class
}

// IsRetryable tells whether the same work can succeed if tried again
// later: the class is Unavailable or Aborted (see Class).
func IsRetryable(err error) bool {
	return err != nil && ClassOf(err).Retryable()
}

// interruptedMessage is what MySQL says for ER_QUERY_INTERRUPTED.
const interruptedMessage = "Query execution was interrupted"

func judge(err error) (Class, *mysql.MyError) {
	if class, me, ok := findAnswer(err); ok {
		return class, me
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Interrupted, newMyError(mysql.ER_QUERY_INTERRUPTED, interruptedMessage)
	}
	var s *Error
	if errors.As(err, &s) {
		return s.class, newMyError(s.code, err.Error())
	}
	return Internal, newMyError(mysql.ER_UNKNOWN_ERROR, err.Error())
}

// findAnswer walks err's chain depth first, outermost first (the order
// errors.As uses), for an answer.
func findAnswer(err error) (Class, *mysql.MyError, bool) {
	switch e := err.(type) {
	case *Error:
		if !e.sentinel {
			return e.class, newMyError(e.code, e.message), true
		}
	case *mysql.MyError:
		return classOfNumber(e.Code), e, true
	}
	switch w := err.(type) {
	case interface{ Unwrap() error }:
		if inner := w.Unwrap(); inner != nil {
			return findAnswer(inner)
		}
	case interface{ Unwrap() []error }:
		for _, inner := range w.Unwrap() {
			if inner == nil {
				continue
			}
			if class, me, ok := findAnswer(inner); ok {
				return class, me, true
			}
		}
	}
	return Internal, nil, false
}
