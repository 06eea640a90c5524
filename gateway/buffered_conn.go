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

func (c *bufferedConn) Write(p []byte) (int, error) {
	if !c.buffered {
		return c.Conn.Write(p)
	}
	return c.w.Write(p)
}

// Flush sends what the current response has buffered.
func (c *bufferedConn) Flush() error { return c.w.Flush() }
