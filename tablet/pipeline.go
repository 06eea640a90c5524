package tablet

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
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
	unchecked := c.unchecked
	stop, err := c.arm(ctx)
	if err != nil {
		return err
	}
	c.answered = false
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
	first = c.takeAhead(first) // ahead.go
	fired := stop != nil && !stop()
	if fired || c.inFlight {
		c.fail(nil)
	}
	c.inFlight = false
	if fired && first != nil && !isServerError(first) {
		return ctx.Err()
	}
	return c.staleError(unchecked, first)
}

// StreamAfter is Stream with the statements in before sent ahead of query
// in the same round trip: a statement savepoint set with the statement it
// protects costs no extra wait. The answers to before are read and
// discarded. query was sent whatever they answered, so it runs and its
// result is read (rows reach onRow) even when one of them failed; the
// first error among them is returned then, else query's. A connection
// failure or ctx ending behaves as in Execute.
func (c *Conn) StreamAfter(ctx context.Context, before []string, query string, onFields func([]*mysql.Field) error, onRow func(row [][]byte) error) (*Result, error) {
	if len(before) == 0 {
		return c.Stream(ctx, query, onFields, onRow)
	}
	r := &c.streamRes
	*r = Result{}
	stop, err := c.arm(ctx)
	if err != nil {
		return nil, err
	}
	err = c.takeAhead(c.roundTripAfter(before, query, r, onFields, onRow)) // ahead.go
	// As exec: a poisoned deadline or a half-read result leaves the
	// connection untrustworthy, and a statement cut short may still run.
	fired := stop != nil && !stop()
	if fired || c.inFlight {
		c.fail(nil)
	}
	if c.inFlight && (fired || c.abandoned) {
		c.killQuery(ctx)
	}
	c.inFlight, c.abandoned = false, false
	c.trimBuffers()
	if fired && err != nil && !isServerError(err) {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// roundTripAfter sends before and query back to back, then reads their
// answers in order. c.inFlight stays set if it returns before query's
// last packet.
func (c *Conn) roundTripAfter(before []string, query string, r *Result, onFields func([]*mysql.Field) error, onRow func([][]byte) error) error {
	for _, q := range before {
		if err := c.writeQuery(q); err != nil {
			return c.fail(err)
		}
	}
	if err := c.writeQuery(query); err != nil {
		return c.fail(err)
	}
	c.inFlight = true
	var first error
	for range before {
		// Each answer continues its own command's sequence: the command
		// was packet 0.
		c.pc.Sequence = 1
		var discard Result
		if err := c.readResult(&discard, modeDiscard, false, nil, nil); err != nil {
			if !isServerError(err) {
				return err
			}
			if first == nil {
				first = err
			}
		}
	}
	c.pc.Sequence = 1
	err := c.readResults(r, modeStream, false, onFields, onRow)
	if first != nil && (err == nil || isServerError(err)) {
		return first
	}
	return err
}
