package gateway

import (
	"errors"
	"time"

	"github.com/shardgate/shardgate/tablet"
)

// Pooled shard connections come back and go out again within a
// millisecond on a busy path: the pool hands out one given back less than
// BackendConfig.TrustReturnedFor (10 ms) ago without checking that the
// server still has it open, which saves a read syscall per statement
// (tablet.PoolConfig.TrustReturnedFor). A connection the server closed
// in that time (KILL, a restart) fails its next statement before any
// answer, with tablet.ErrStaleConn. A read on a pooled connection then
// runs again on another (the pool checks the rest), as Vitess's tablet
// server retries a query outside a transaction on a connection error:
// nothing of the first run reached the client, and running a SELECT
// twice changes nothing. Anything else gets the error (Unavailable:
// retryable), as it would had the server closed the connection just
// after a check.
const defaultTrustReturnedFor = 10 * time.Millisecond

// trustReturnedFor is the pools' TrustReturnedFor.
func (b BackendConfig) trustReturnedFor() time.Duration {
	switch {
	case b.TrustReturnedFor < 0:
		return 0
	case b.TrustReturnedFor == 0:
		return defaultTrustReturnedFor
	}
	return b.TrustReturnedFor
}

// retriesStale tells whether a shard query that failed with err may run
// once more on another connection: a SELECT, on a pooled connection,
// that failed before the server answered anything.
func (vc *vcursor) retriesStale(err error, pooled bool) bool {
	return err != nil && pooled && vc.read && errors.Is(err, tablet.ErrStaleConn)
}
