package gateway

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// flakyListener fails its first failures Accepts as a process out of file
// descriptors does, then accepts.
type flakyListener struct {
	net.Listener
	mu       sync.Mutex
	failures int
	calls    int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.calls++
	fail := l.failures > 0
	if fail {
		l.failures--
	}
	l.mu.Unlock()
	if fail {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// noTopo is a TopoStore with nothing in it (the accept loop needs none).
type noTopo struct{}

func (noTopo) WatchSnapshots(ctx context.Context, fn func(*topo.Snapshot)) error {
	<-ctx.Done()
	return nil
}

func (noTopo) UpdateVSchema(context.Context, string, func(*vschema.Keyspace) error) error {
	return nil
}

// Regression test (issue 15, finding 3): an accept error such as "too many
// open files" used to end the accept loop, leaving a process that served
// nobody. The loop now waits and retries.
func TestAcceptSurvivesErrors(t *testing.T) {
	srv, err := New(Config{Topo: noTopo{}})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &flakyListener{Listener: inner, failures: 5}
	srv.ctx, srv.cancel = context.WithCancel(context.Background())
	srv.ln = ln
	srv.wg.Add(1)
	go srv.accept()
	defer srv.Close()

	c, err := net.DialTimeout("tcp", inner.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var greeting [4]byte // packet header of the server's handshake
	if _, err := c.Read(greeting[:]); err != nil {
		t.Fatalf("after 5 failed accepts: reading the handshake: %v, want the server's greeting", err)
	}
	ln.mu.Lock()
	calls := ln.calls
	ln.mu.Unlock()
	if calls < 6 {
		t.Errorf("Accept called %d times, want at least 6 (5 failures, then the connection)", calls)
	}
}

func TestAcceptRetryDelay(t *testing.T) {
	var d time.Duration
	var got []time.Duration
	for range 10 {
		d = acceptRetryDelay(d)
		got = append(got, d)
	}
	if got[0] != 5*time.Millisecond || got[1] != 10*time.Millisecond || got[9] != time.Second {
		t.Errorf("delays %v: want 5ms doubling up to 1s", got)
	}
}
