package tablet

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/wire"
)

// StreamRaw runs one statement with the text protocol, as Stream does,
// but hands each row over as the packet payload the server sent, never
// split into values: a caller that forwards rows to a client unchanged
// (the gateway's pass-through) neither parses nor re-encodes them.
// onFields gets the column definitions as in Stream; onRow's payload
// aliases the connection's read buffer and is valid only until onRow
// returns. A row of 16 MiB or more arrives reassembled, as one payload.
// Results, errors, callbacks and ctx behave as in Stream.
func (c *Conn) StreamRaw(ctx context.Context, query string, onFields func([]*mysql.Field) error, onRow func(payload []byte) error) (*Result, error) {
	r := &c.streamRes
	*r = Result{}
	c.rawRow = onRow
	err := c.exec(ctx, query, r, modeForward, false, onFields, nil)
	c.rawRow = nil
	if err != nil {
		return nil, err
	}
	return r, nil
}

// readForwardedRows reads a result set's rows after its column
// definitions, handing each row's payload to c.rawRow undecoded, up to
// the EOF/OK that ends them (or an ERR: the statement failed part way,
// and the connection stays in step).
func (c *Conn) readForwardedRows(r *Result) error {
	for {
		pkt, err := c.nextRow(r)
		if err != nil || pkt == nil {
			return err
		}
		if c.rawRow != nil {
			if err := c.rawRow(pkt); err != nil {
				c.abandoned = true
				return err
			}
		}
	}
}

// nextRow reads the next row packet of a result set; nil at the EOF/OK
// that ends the rows (r then holds its status). An ERR instead is the
// statement failing part way (killed, out of memory...): it ends the
// result and the connection stays in step.
func (c *Conn) nextRow(r *Result) ([]byte, error) {
	pkt, err := c.readPacket()
	if err != nil {
		return nil, c.fail(err)
	}
	if len(pkt) == 0 {
		return nil, c.fail(wire.ErrMalformed)
	}
	if wire.IsEOF(pkt) {
		var ok wire.OK
		if c.deprecateEOF {
			ok, err = wire.ParseOK(pkt)
		} else {
			ok, err = wire.ParseEOF(pkt)
		}
		if err != nil {
			return nil, c.fail(err)
		}
		r.setOK(ok)
		c.status = r.Status
		return nil, nil
	}
	if pkt[0] == wire.HeaderERR {
		if err := wire.ParseERR(pkt); err != wire.ErrMalformed {
			return nil, err
		}
		return nil, c.fail(wire.ErrMalformed)
	}
	return pkt, nil
}
