package tablet

import (
	"context"
	"encoding/binary"

	"github.com/go-mysql-org/go-mysql/mysql"
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

// prepareFields sends COM_STMT_PREPARE and reads the answer:
//
//	status          [1]  0x00 (or an ERR packet)
//	statement id    [4]
//	num columns     [2]
//	num params      [2]
//	filler          [1]
//	warnings        [2]
//
// then num params definitions [EOF], num columns definitions [EOF] (the EOFs
// only without CLIENT_DEPRECATE_EOF); then sends COM_STMT_CLOSE, which has
// no answer.
func (c *Conn) prepareFields(query string) (params, columns [][]byte, err error) {
	if err := c.writeCommand(mysql.COM_STMT_PREPARE, []byte(query)); err != nil {
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
	if len(pkt) > 0 && pkt[0] == headerERR {
		if err := parseERR(pkt); err != errMalformed {
			return 0, 0, 0, err
		}
		return 0, 0, 0, c.fail(errMalformed)
	}
	if len(pkt) < 12 || pkt[0] != headerOK {
		return 0, 0, 0, c.fail(errMalformed)
	}
	id = binary.LittleEndian.Uint32(pkt[1:])
	nColumns = int(binary.LittleEndian.Uint16(pkt[5:]))
	nParams = int(binary.LittleEndian.Uint16(pkt[7:]))
	return id, nColumns, nParams, nil
}

// closeStatement sends COM_STMT_CLOSE: [0x19] statement id [32 bit]. The
// server does not answer it.
func (c *Conn) closeStatement(id uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], id)
	return c.writeCommand(mysql.COM_STMT_CLOSE, b[:])
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
		if !isEOF(pkt) {
			return nil, c.fail(errMalformed)
		}
	}
	return defs, nil
}

// writeCommand sends one command packet: [command] payload.
func (c *Conn) writeCommand(cmd byte, payload []byte) error {
	n := 4 + 1 + len(payload)
	if cap(c.wbuf) < n {
		c.wbuf = make([]byte, n, max(n, 256))
	}
	b := c.wbuf[:n]
	b[4] = cmd
	copy(b[5:], payload)
	c.pc.ResetSequence()
	return c.pc.WritePacket(b)
}
