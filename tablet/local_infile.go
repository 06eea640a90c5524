package tablet

import (
	"context"
	"fmt"

	"github.com/shardgate/shardgate/wire"
)

// LoadLocal runs a LOAD DATA LOCAL INFILE statement. When the server asks
// for the file, source is called with the name it asks for and a send
// that passes one packet of the file's bytes on; the end of the file (an
// empty packet) follows once source returns. A source error ends the
// statement: the connection, which the server holds mid-statement, is
// closed, and the error returned.
func (c *Conn) LoadLocal(ctx context.Context, query string, source func(name string, send func(data []byte) error) error) (*Result, error) {
	c.localInfile = source
	defer func() { c.localInfile = nil }()
	r := new(Result)
	if err := c.exec(ctx, query, r, modeBuffer, false, nil, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// sendLocalInfile answers the server's request for name with what
// c.localInfile sends, then reads the statement's answer.
func (c *Conn) sendLocalInfile(r *Result, name string) error {
	send := func(data []byte) error {
		if len(data) == 0 {
			return nil // an empty packet would end the file
		}
		pkt := make([]byte, wire.HeaderSize, wire.HeaderSize+len(data))
		if err := c.pc.WritePacket(append(pkt, data...)); err != nil {
			return c.fail(err)
		}
		return nil
	}
	if err := c.localInfile(name, send); err != nil {
		if !c.broken {
			c.abandoned = true
		}
		return fmt.Errorf("LOAD DATA LOCAL INFILE '%s': %w", name, err)
	}
	if err := c.pc.WritePacket(make([]byte, wire.HeaderSize)); err != nil {
		return c.fail(err)
	}
	pkt, err := c.readPacket()
	if err != nil {
		return c.fail(err)
	}
	switch {
	case len(pkt) > 0 && pkt[0] == wire.HeaderOK:
		ok, err := wire.ParseOK(pkt)
		if err != nil {
			return c.fail(err)
		}
		r.setOK(ok)
		c.status = r.Status
		return nil
	case len(pkt) > 0 && pkt[0] == wire.HeaderERR:
		if err := wire.ParseERR(pkt); err != wire.ErrMalformed {
			return err
		}
	}
	return c.fail(wire.ErrMalformed)
}
