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
}

func newBufferedConn(c net.Conn) *bufferedConn {
	return &bufferedConn{Conn: c, w: bufio.NewWriterSize(c, 32*1024)}
}

func (c *bufferedConn) buffer() { c.buffered = true }

// packetReadConn reads the client's packets through a packetReader that
// fixes the COM_STMT_EXECUTE packets of the session's prepared statements
// (stmt_types.go). It wraps the connection go-mysql reads MySQL packets
// from after the handshake: the TCP connection, or the TLS connection the
// handshake upgraded it to (below TLS the bytes are TLS records, not
// packets). Installed when the client waits for nothing and go-mysql has
// buffered none of its bytes.
type packetReadConn struct {
	net.Conn
	reader *packetReader
}

func newPacketReadConn(c net.Conn, types *stmtTypes) *packetReadConn {
	return &packetReadConn{Conn: c, reader: &packetReader{r: bufio.NewReaderSize(c, 16*1024), types: types}}
}

func (c *packetReadConn) Read(p []byte) (int, error) { return c.reader.Read(p) }

func (c *bufferedConn) Write(p []byte) (int, error) {
	if !c.buffered {
		return c.Conn.Write(p)
	}
	return c.w.Write(p)
}

// Flush sends what the current response has buffered.
func (c *bufferedConn) Flush() error { return c.w.Flush() }
