package tablet

import (
	"context"

	"github.com/shardgate/shardgate/wire"
)

// PrepareFields asks the server to prepare query and returns the raw
// parameter and result column definitions it announces (the payloads of
// those packets, as a client would forward them), then closes the server's
// statement. The gateway uses it to answer its own clients'
// COM_STMT_PREPARE with the columns MySQL would announce.
func (c *Conn) PrepareFields(ctx context.Context, query string) (params, columns [][]byte, err error) {
	stop, err := c.arm(ctx)
	if err != nil {
		return nil, nil, err
	}
	if stop != nil {
		defer func() {
			if !stop() && err == nil {
				// The deadline was poisoned after the last read.
				c.fail(nil)
			}
		}()
	}
	params, columns, err = c.prepareFields(query)
	c.trimBuffers()
	return params, columns, err
}

// prepareFields sends COM_STMT_PREPARE and reads the answer (the
// statement's counts, then its parameter and column definitions:
// wire.ParsePrepareOK); then sends COM_STMT_CLOSE, which has no answer.
func (c *Conn) prepareFields(query string) (params, columns [][]byte, err error) {
	if err := c.writePrepare(query); err != nil {
		return nil, nil, c.fail(err)
	}
	id, nColumns, nParams, err := c.readPrepareOK()
	if err != nil {
		return nil, nil, err
	}
	if params, err = c.readDefinitions(nParams); err != nil {
		return nil, nil, err
	}
	if columns, err = c.readDefinitions(nColumns); err != nil {
		return nil, nil, err
	}
	if err := c.closeStatement(id); err != nil {
		return nil, nil, c.fail(err)
	}
	return params, columns, nil
}

// readPrepareOK reads the first packet of the answer to COM_STMT_PREPARE:
// the statement's id and counts, or the server's error.
func (c *Conn) readPrepareOK() (id uint32, nColumns, nParams int, err error) {
	pkt, err := c.readPacket()
	if err != nil {
		return 0, 0, 0, c.fail(err)
	}
	if len(pkt) > 0 && pkt[0] == wire.HeaderERR {
		if err := wire.ParseERR(pkt); err != wire.ErrMalformed {
			return 0, 0, 0, err
		}
		return 0, 0, 0, c.fail(wire.ErrMalformed)
	}
	ok, err := wire.ParsePrepareOK(pkt)
	if err != nil {
		return 0, 0, 0, c.fail(err)
	}
	return ok.StmtID, ok.Columns, ok.Params, nil
}

// closeStatement sends COM_STMT_CLOSE. The server does not answer it.
func (c *Conn) closeStatement(id uint32) error {
	return c.send(wire.AppendStmtClose(c.writeBuffer(4), id))
}

// readDefinitions reads n definition packets (copied) and the EOF after them.
func (c *Conn) readDefinitions(n int) ([][]byte, error) {
	return c.definitions(n, true)
}

// definitions reads n definition packets, keeping copies if keep, and the
// EOF after them.
func (c *Conn) definitions(n int, keep bool) ([][]byte, error) {
	if n == 0 {
		return nil, nil
	}
	var defs [][]byte
	if keep {
		defs = make([][]byte, n)
	}
	for i := range n {
		pkt, err := c.readPacket()
		if err != nil {
			return nil, c.fail(err)
		}
		if keep {
			defs[i] = append([]byte(nil), pkt...)
		}
	}
	if !c.deprecateEOF {
		pkt, err := c.readPacket()
		if err != nil {
			return nil, c.fail(err)
		}
		if !wire.IsEOF(pkt) {
			return nil, c.fail(wire.ErrMalformed)
		}
	}
	return defs, nil
}

// writePrepare sends COM_STMT_PREPARE.
func (c *Conn) writePrepare(query string) error {
	return c.send(wire.AppendStmtPrepare(c.writeBuffer(len(query)), query))
}

// send sends one command packet built in the write buffer (writeBuffer),
// as the first packet of a new command.
func (c *Conn) send(pkt []byte) error {
	if len(c.ahead) > 0 {
		return c.sendWithAhead(pkt) // ahead.go
	}
	c.wbuf = pkt
	c.pc.ResetSequence()
	return c.pc.WritePacket(pkt)
}
