//go:build unix

package tablet

import (
	"errors"
	"syscall"
)

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
	var (
		buf  [1]byte
		n    int
		rerr error
	)
	err := c.raw.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), buf[:])
		return true // never wait for readiness
	})
	if err != nil {
		return false
	}
	if n > 0 || rerr == nil {
		return false // data, or end of file
	}
	return errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK)
}
