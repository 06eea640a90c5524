package tablet

import (
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/wire"
)

// Statements sent ahead. A transaction's begin (XA START, with SET
// TRANSACTION before it) needs no answer of its own before the statement
// that follows it: SendAhead queues it, and it goes out in the same
// write as the connection's next command, whatever that command is
// (Execute, Stream, StreamRaw, StreamPrepared, a Pipeline...). The
// answers come back in order, so they are read before that command's,
// and the begin costs no round trip of its own.
//
// The command was sent whatever the statements ahead of it answered:
// the server runs it even when one of them failed (separate COM_QUERY
// packets; MySQL's multi-statement stop-at-first-error applies only
// within one COM_QUERY). So the caller may send ahead only what the
// command can do without: a transaction's begin ahead of a read, which,
// if the begin failed, read the latest committed rows outside the
// transaction and wrote nothing. When one failed, the command's result is
// read and discarded (no column definitions or rows reach the callbacks)
// and the command returns the first failure, the server's own error, as
// if it had been the command's; AheadFailed says so until the next
// SendAhead.

// SendAhead queues statements to be sent in the same write as the
// connection's next command and answered before it (see above). They
// are meant to be short control statements. A connection put back in its
// pool drops statements it never sent.
func (c *Conn) SendAhead(stmts ...string) {
	c.ahead = append(c.ahead[:0], stmts...)
	c.aheadFailed = false
}

// AheadFailed tells whether a statement sent ahead (SendAhead) failed on
// the server. The command it went with then answered that failure.
func (c *Conn) AheadFailed() bool { return c.aheadFailed }

// dropAhead forgets queued statements and their outcome.
func (c *Conn) dropAhead() {
	clear(c.ahead)
	c.ahead = c.ahead[:0]
	c.aheadFailed, c.aheadErr = false, nil
}

// sendWithAhead sends the queued statements and then pkt, a command's
// first packet built in the write buffer, in one write when pkt fits
// one packet; then it reads the queued statements' answers, keeping the
// first server error in c.aheadErr for the command to answer (takeAhead).
func (c *Conn) sendWithAhead(pkt []byte) error {
	ahead := c.ahead
	c.ahead = c.ahead[:0]
	buf := c.abuf[:0]
	for _, q := range ahead {
		start := len(buf)
		buf = wire.AppendQuery(buf, q)
		putHeader(buf[start:])
	}
	clear(ahead)
	c.pc.ResetSequence()
	if len(pkt)-wire.HeaderSize < mysql.MaxPayloadLen {
		putHeader(pkt)
		buf = append(buf, pkt...)
		c.wbuf = pkt
		if _, err := c.pc.Conn.Write(buf); err != nil {
			return err
		}
		c.pc.Sequence = 1
	} else {
		if _, err := c.pc.Conn.Write(buf); err != nil {
			return err
		}
		c.wbuf = pkt
		if err := c.pc.WritePacket(pkt); err != nil {
			return err
		}
	}
	if cap(buf) <= maxKeptBuffer {
		c.abuf = buf[:0]
	}
	// The command's own answer continues its sequence where writing it
	// left it; each answer ahead of it continues its own command's (the
	// command was packet 0).
	seq := c.pc.Sequence
	c.inFlight = true
	for range ahead {
		c.pc.Sequence = 1
		var discard Result
		if err := c.readResult(&discard, modeDiscard, false, nil, nil); err != nil {
			if !isServerError(err) {
				return err
			}
			if c.aheadErr == nil {
				c.aheadErr = err
				c.aheadFailed = true
			}
		}
	}
	c.pc.Sequence = seq
	return nil
}

// putHeader writes the header of a packet of less than 16 MiB built
// with its header's room at the start: payload length [24 bit], sequence
// id [8 bit] 0 (the first packet of a command).
func putHeader(pkt []byte) {
	n := len(pkt) - wire.HeaderSize
	pkt[0], pkt[1], pkt[2], pkt[3] = byte(n), byte(n>>8), byte(n>>16), 0
}

// takeAhead is the error a command answers when the statements sent
// ahead of it failed: theirs, unless the command lost the connection.
// It forgets that error: the next command answers its own.
func (c *Conn) takeAhead(err error) error {
	if c.aheadErr == nil {
		return err
	}
	first := c.aheadErr
	c.aheadErr = nil
	if err == nil || isServerError(err) {
		return first
	}
	return err
}

// discardResults reads a command's results to their end without handing
// anything over: the command sent behind failed statements (sendWithAhead).
func (c *Conn) discardResults(r *Result) error {
	for {
		err := c.readResult(r, modeDiscard, false, nil, nil)
		if err != nil && !isServerError(err) {
			return err
		}
		if err != nil || r.Status&mysql.SERVER_MORE_RESULTS_EXISTS == 0 {
			c.inFlight = false
			return nil
		}
	}
}
