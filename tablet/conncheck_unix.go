//go:build unix

package tablet

import (
	"errors"
	"syscall"
)

// probe is the state of the liveness check, kept in the Conn so that the
// check allocates nothing.
type probe struct {
	fn  func(fd uintptr) bool
	buf [1]byte
	n   int
	err error
}

// alive tells whether an idle connection still looks open: a non-blocking
// read of its socket must find nothing to read. The server closing the
// connection (wait_timeout, a restart, KILL) shows as end of file; a
// server that said something unasked (MySQL's "disconnected by the
// server" error) shows as data. Both make the connection unusable.
func (c *Conn) alive() bool {
	if c.broken {
		return false
	}
	if c.raw == nil {
		return true
	}
	if c.probe.fn == nil {
		c.probe.fn = func(fd uintptr) bool {
			c.probe.n, c.probe.err = syscall.Read(int(fd), c.probe.buf[:])
			return true // never wait for readiness
		}
	}
	if err := c.raw.Read(c.probe.fn); err != nil {
		return false
	}
	n, rerr := c.probe.n, c.probe.err
	c.probe.err = nil
	if n > 0 || rerr == nil {
		return false // data, or end of file
	}
	return errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK)
}
