package tablet

import (
	"context"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/wire"
)

// StreamBinary is Stream through the prepared-statement protocol: the
// server prepares query (which has no parameter markers), executes it and
// sends binary rows, and the statement is closed. The rows reach onRow as
// the same text values Stream hands over, byte for byte, except FLOAT:
// the text protocol prints 6 significant digits, while here a FLOAT is
// the shortest text that parses back to the exact stored float32
// (wire.BinaryRowDecoder). The column definitions are the ones the execution
// announces.
//
// It costs one more round trip than Stream (the prepare), so the gateway
// uses it only where the exact FLOAT matters. A statement the server
// cannot prepare (ER_UNSUPPORTED_PS), or one with parameter markers,
// runs as Stream would, so its result or error is the text protocol's.
func (c *Conn) StreamBinary(ctx context.Context, query string, onFields func([]*mysql.Field) error, onRow func(row [][]byte) error) (*Result, error) {
	r := new(Result)
	if err := c.exec(ctx, query, r, modeStream, true, onFields, onRow); err != nil {
		return nil, err
	}
	return r, nil
}

// roundTripBinary runs query with COM_STMT_PREPARE, COM_STMT_EXECUTE and
// COM_STMT_CLOSE, reading the result as roundTrip does.
func (c *Conn) roundTripBinary(query string, r *Result, mode resultMode, onFields func([]*mysql.Field) error, onRow func([][]byte) error) error {
	if err := c.writePrepare(query); err != nil {
		return c.fail(err)
	}
	c.inFlight = true
	id, nColumns, nParams, err := c.readPrepareOK()
	var me *mysql.MyError
	if errors.As(err, &me) && me.Code == mysql.ER_UNSUPPORTED_PS {
		c.inFlight = false
		return c.roundTrip(query, r, mode, onFields, onRow)
	}
	if err != nil {
		if !c.broken {
			c.inFlight = false
		}
		return err
	}
	// The definitions announced here are read again from the execution.
	if _, err := c.definitions(nParams, false); err != nil {
		return err
	}
	if _, err := c.definitions(nColumns, false); err != nil {
		return err
	}
	if nParams > 0 {
		if err := c.closeStatement(id); err != nil {
			return c.fail(err)
		}
		c.inFlight = false
		return c.roundTrip(query, r, mode, onFields, onRow)
	}
	if err := c.writeExecute(id); err != nil {
		return c.fail(err)
	}
	err = c.readResults(r, mode, true, onFields, onRow)
	if !c.inFlight {
		// The result was read to its end (rows, or the server's error):
		// the statement can go. The close has no answer; if it cannot be
		// sent, the connection is dropped but the result stands.
		if cerr := c.closeStatement(id); cerr != nil {
			c.fail(nil)
		}
	}
	return err
}

// writeExecute sends COM_STMT_EXECUTE of a statement without parameters.
func (c *Conn) writeExecute(id uint32) error {
	return c.send(wire.AppendStmtExecute(c.writeBuffer(9), id))
}
