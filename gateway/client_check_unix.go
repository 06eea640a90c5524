//go:build unix

package gateway

import (
	"errors"
	"net"
	"syscall"
)

// clientAliveCheck returns a check that tells whether the client's socket
// is still open, or nil where the socket can't be looked at. It peeks
// without waiting and without consuming: end of file or a reset means the
// client has gone; data (a pipelined command) or nothing to read means it
// is still there. It runs on the statement's check timer while the
// session's goroutine executes, never while that goroutine reads.
func clientAliveCheck(nc net.Conn) func() bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var (
		buf  [1]byte
		n    int
		rerr error
	)
	peek := func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait for readiness
	}
	return func() bool {
		if err := raw.Read(peek); err != nil {
			return false // closed on our side
		}
		if rerr != nil {
			return errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK) || errors.Is(rerr, syscall.EINTR)
		}
		return n > 0
	}
}
