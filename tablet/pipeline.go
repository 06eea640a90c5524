package tablet

import (
	"context"
)

// Pipeline sends several statements back to back and then reads their
// answers in order, so they cost one network round trip instead of one
// each (the server still runs them one after the other). It is meant for
// short control statements whose results are not needed: transaction
// control (`SET TRANSACTION ...`, `XA START`, `XA END` + `XA PREPARE`).
// Every statement runs even when an earlier one failed; the first server
// error is returned and the connection stays usable. A connection
// failure or ctx ending behaves as in Execute.
func (c *Conn) Pipeline(ctx context.Context, queries ...string) error {
	if len(queries) == 1 {
		_, err := c.Execute(ctx, queries[0])
		return err
	}
	stop, err := c.arm(ctx)
	if err != nil {
		return err
	}
	var first error
	c.inFlight = true
	for _, q := range queries {
		if err := c.writeQuery(q); err != nil {
			first = c.fail(err)
			break
		}
	}
	if first == nil {
		for range queries {
			// Each answer continues its own command's sequence: the
			// command was packet 0.
			c.pc.Sequence = 1
			var r Result
			err := c.readResult(&r, modeDiscard, false, nil, nil)
			if err != nil && !isServerError(err) {
				first = err
				break
			}
			if err != nil && first == nil {
				first = err
			}
		}
		if c.broken {
			c.inFlight = true
		} else if first == nil || isServerError(first) {
			c.inFlight = false
		}
	}
	fired := stop != nil && !stop()
	if fired || c.inFlight {
		c.fail(nil)
	}
	c.inFlight = false
	if fired && first != nil && !isServerError(first) {
		return ctx.Err()
	}
	return first
}
