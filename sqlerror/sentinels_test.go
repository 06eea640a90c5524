package sqlerror_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/twopc"
)

// The packages' sentinels, wrapped as their callers wrap them and then
// again on the way to the client, keep their class and number; the client
// gets the whole text, and errors.Is still finds the sentinel.
func TestSentinelsOfPackages(t *testing.T) {
	tests := []struct {
		name     string
		sentinel error
		class    sqlerror.Class
		code     uint16
		state    string
	}{
		{"tablet.ErrConnBroken", tablet.ErrConnBroken, sqlerror.Unavailable, 1105, "HY000"},
		{"tablet.ErrPoolClosed", tablet.ErrPoolClosed, sqlerror.Unavailable, 1105, "HY000"},
		{"tablet.ErrReplicationTimeout", tablet.ErrReplicationTimeout, sqlerror.Unavailable, 1105, "HY000"},
		{"tablet.ErrMultipleResults", tablet.ErrMultipleResults, sqlerror.Unsupported, 1235, "42000"},
		{"tablet.ErrLocalInfile", tablet.ErrLocalInfile, sqlerror.Unsupported, 1148, "42000"},
		{"tablet.ErrNotRunning", tablet.ErrNotRunning, sqlerror.Internal, 1105, "HY000"},
		{"topo.ErrNoNode", topo.ErrNoNode, sqlerror.Internal, 1105, "HY000"},
		{"topo.ErrNodeExists", topo.ErrNodeExists, sqlerror.User, 1105, "HY000"},
		{"topo.ErrBadVersion", topo.ErrBadVersion, sqlerror.Aborted, 1105, "HY000"},
		{"topo.ErrInvalid", topo.ErrInvalid, sqlerror.User, 1105, "HY000"},
		{"twopc.ErrRolledBack", twopc.ErrRolledBack, sqlerror.Aborted, 1402, "XA100"},
		{"twopc.ErrOutcomeUnknown", twopc.ErrOutcomeUnknown, sqlerror.Internal, 1105, "HY000"},
		{"twopc.ErrNoRecord", twopc.ErrNoRecord, sqlerror.Internal, 1105, "HY000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fmt.Errorf("commit: %w", fmt.Errorf("shard ks/-80: %w", fmt.Errorf("%w: 127.0.0.1:3306: %w", tt.sentinel, io.EOF)))
			if !errors.Is(err, tt.sentinel) || !errors.Is(err, io.EOF) {
				t.Fatalf("errors.Is(%v, sentinel and cause) = false, want true", err)
			}
			me := sqlerror.ToMyError(err)
			if me.Code != tt.code || me.State != tt.state || me.Message != err.Error() {
				t.Errorf("ToMyError(%v) = %d (%s) %q, want %d (%s) with the whole text", err, me.Code, me.State, me.Message, tt.code, tt.state)
			}
			if got := sqlerror.ClassOf(err); got != tt.class {
				t.Errorf("ClassOf(%v) = %v, want %v", err, got, tt.class)
			}
			if got, want := sqlerror.IsRetryable(err), tt.class.Retryable(); got != want {
				t.Errorf("IsRetryable(%v) = %v, want %v", err, got, want)
			}
		})
	}
}
