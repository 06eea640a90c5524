package gateway

import (
	"bufio"
	"net"
)

// bufferedConn batches the packets of one response into few writes: go-mysql
// writes every packet separately, which would cost a syscall per row. It is
// unbuffered during the handshake (whose round trips need each packet sent
// at once) and buffered afterwards, flushed after every command.
type bufferedConn struct {
	net.Conn
	w        *bufio.Writer
	buffered bool
	// reader, once the handshake is over, reads the client's packets
	// (stmt_types.go).
	reader *packetReader
}

func newBufferedConn(c net.Conn) *bufferedConn {
	return &bufferedConn{Conn: c, w: bufio.NewWriterSize(c, 32*1024)}
}

func (c *bufferedConn) buffer() { c.buffered = true }

// readPackets makes Read go through a packetReader that fixes the
// COM_STMT_EXECUTE packets of the session's prepared statements. Called
// after the handshake, when the client waits for nothing and go-mysql has
// buffered none of its bytes.
func (c *bufferedConn) readPackets(types *stmtTypes) {
	c.reader = &packetReader{r: bufio.NewReaderSize(c.Conn, 16*1024), types: types}
}

func (c *bufferedConn) Read(p []byte) (int, error) {
	if c.reader == nil {
		return c.Conn.Read(p)
	}
	return c.reader.Read(p)
}

func (c *bufferedConn) Write(p []byte) (int, error) {
	if !c.buffered {
		return c.Conn.Write(p)
	}
	return c.w.Write(p)
}

// Flush sends what the current response has buffered.
func (c *bufferedConn) Flush() error { return c.w.Flush() }
