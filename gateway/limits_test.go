package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// startBare starts a gateway with no topology on a free port: enough for
// everything up to and between commands (logins, limits, packets).
func startBare(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Topo = noTopo{}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.ctx, srv.cancel = context.WithCancel(context.Background())
	srv.ln = ln
	srv.wg.Add(1)
	go srv.accept()
	t.Cleanup(srv.Close)
	return srv
}

// login connects as user with go-mysql's client.
func login(addr, user, password string) (*client.Conn, error) {
	return client.ConnectWithDialer(context.Background(), "tcp", addr, user, password, "",
		(&net.Dialer{Timeout: 5 * time.Second}).DialContext)
}

func errCode(err error) uint16 {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me.Code
	}
	return 0
}

// waitClosed reads from c until the gateway closes it, failing the test
// if that takes longer than within.
func waitClosed(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	// A reset is a close too: the gateway closes with our bytes unread.
	if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the gateway did not close the connection within %s: %v", within, err)
	}
}

// readGreeting reads the server's handshake packet.
func readGreeting(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Time{})
}

// Regression test (issue 15, finding 2): 200 strangers each sending the
// length header `ff ff ff 01` made the gateway allocate 16 MiB apiece
// (3.3 GiB) before any login. Now a header over PreAuthMaxPacket closes
// the connection before anything is allocated for it.
func TestPreAuthLengthHeaderAllocatesNothing(t *testing.T) {
	srv := startBare(t, Config{})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]net.Conn, 200)
	for i := range conns {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		readGreeting(t, c)
		if _, err := c.Write([]byte{0xff, 0xff, 0xff, 0x01}); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		waitClosed(t, c, 5*time.Second)
	}
	runtime.ReadMemStats(&after)
	// Before the fix: 200 × 16 MiB. Each connection's own buffers are
	// about 100 KiB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("200 connections claiming 16 MiB packets before login: %d MiB allocated, want < 64 MiB", got>>20)
	}
}

// Regression test (issue 15, finding 2): a 512 MiB COM_QUERY, over
// max_allowed_packet, is drained without being kept and answered 1153;
// the connection stays usable.
func TestOversizedCommandDrainedAnswers1153(t *testing.T) {
	srv := startBare(t, Config{MaxAllowedPacket: 1 << 20})
	c, err := login(srv.Addr(), "root", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const total = 512 << 20
	chunk := make([]byte, 4+(1<<24-1))
	chunk[4] = mysql.COM_QUERY
	for sent, seq := 0, 0; sent <= total; seq++ {
		n := min(1<<24-1, total-sent)
		chunk[0], chunk[1], chunk[2], chunk[3] = byte(n), byte(n>>8), byte(n>>16), byte(seq)
		if _, err := c.Conn.Conn.Write(chunk[:4+n]); err != nil {
			t.Fatalf("sending packet %d: %v", seq, err)
		}
		sent += n
		if n < 1<<24-1 {
			c.Sequence = uint8(seq + 1)
			break
		}
	}
	c.Conn.Conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	pkt, err := c.ReadPacket()
	if err != nil {
		t.Fatalf("reading the answer to a 512 MiB query: %v", err)
	}
	if pkt[0] != mysql.ERR_HEADER || int(pkt[1])|int(pkt[2])<<8 != mysql.ER_NET_PACKET_TOO_LARGE {
		t.Fatalf("answer to a 512 MiB query: got %x, want error 1153", pkt[:min(len(pkt), 16)])
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20+uint64(len(chunk)) {
		t.Errorf("refusing a 512 MiB query: %d MiB allocated, want < 64 MiB beyond the test's own buffer", got>>20)
	}
	c.ResetSequence()
	if err := c.Ping(); err != nil {
		t.Fatalf("ping after 1153: %v", err)
	}
}

// Issue 15, finding 4: a client that connects and sends nothing, or
// stops in the middle of its handshake response, is disconnected after
// the handshake timeout.
func TestHandshakeTimeout(t *testing.T) {
	srv := startBare(t, Config{Limits: Limits{HandshakeTimeout: 300 * time.Millisecond}})
	for _, send := range [][]byte{nil, {0x40, 0, 0, 1, 0x0d, 0xa6}} {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		readGreeting(t, c)
		if _, err := c.Write(send); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, c, 5*time.Second)
	}
}

// Issue 15, finding 4: a logged-in client that stops in the middle of a
// packet is disconnected after the net read timeout (it was waited on
// forever); one that is idle between commands is not.
func TestNetReadTimeout(t *testing.T) {
	srv := startBare(t, Config{Limits: Limits{NetReadTimeout: 300 * time.Millisecond}})
	idle, err := login(srv.Addr(), "root", "")
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	c, err := login(srv.Addr(), "root", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Conn.Conn.Write([]byte{100, 0, 0, 0, mysql.COM_QUERY, 's', 'e', 'l'}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitClosed(t, c.Conn.Conn, 5*time.Second)
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("closed after %s, want the 300ms net read timeout", waited)
	}
	time.Sleep(200 * time.Millisecond)
	if err := idle.Ping(); err != nil {
		t.Fatalf("a client idle for longer than the net read timeout: %v", err)
	}
}

// Issue 15, finding 4: past MaxConnections a new client gets 1040 instead
// of the handshake, as from MySQL; once one goes, another gets in.
func TestMaxConnections(t *testing.T) {
	srv := startBare(t, Config{Limits: Limits{MaxConnections: 3}})
	var open []*client.Conn
	for range 3 {
		c, err := login(srv.Addr(), "root", "")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	_, err := login(srv.Addr(), "root", "")
	if errCode(err) != mysql.ER_CON_COUNT_ERROR {
		t.Fatalf("fourth connection with max 3: got %v, want error 1040", err)
	}
	open[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := login(srv.Addr(), "root", "")
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one of 3 connections closed: %v, want a login", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range open[1:] {
		c.Close()
	}
}

// Issue 15, finding 4: past MaxUserConnections a user's next login gets
// MySQL's 1203; other users still log in.
func TestMaxUserConnections(t *testing.T) {
	srv := startBare(t, Config{
		Users:  map[string]string{"app": "a", "other": "o"},
		Limits: Limits{MaxUserConnections: 2},
	})
	for range 2 {
		c, err := login(srv.Addr(), "app", "a")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	_, err := login(srv.Addr(), "app", "a")
	if errCode(err) != mysql.ER_TOO_MANY_USER_CONNECTIONS {
		t.Fatalf("third login of app with max_user_connections 2: got %v, want error 1203", err)
	}
	other, err := login(srv.Addr(), "other", "o")
	if err != nil {
		t.Fatalf("another user: %v", err)
	}
	other.Close()
}

// Issue 15, finding 4: password guesses were unthrottled (2,360/s). Past
// LoginFailureBurst failures an address gets 1129 before the handshake,
// even with the right password; other addresses are not affected.
func TestLoginFailureRateLimit(t *testing.T) {
	srv := startBare(t, Config{
		Users:  map[string]string{"app": "secret"},
		Limits: Limits{LoginFailureBurst: 3, LoginFailureInterval: time.Hour},
	})
	for i := range 3 {
		_, err := login(srv.Addr(), "app", "guess")
		if errCode(err) != mysql.ER_ACCESS_DENIED_ERROR {
			t.Fatalf("wrong password %d: got %v, want error 1045", i+1, err)
		}
	}
	_, err := login(srv.Addr(), "app", "secret")
	if errCode(err) != mysql.ER_HOST_IS_BLOCKED {
		t.Fatalf("after 3 failures: got %v, want error 1129", err)
	}
	// Linux routes all of 127/8 to the loopback: another address.
	_, port, _ := net.SplitHostPort(srv.Addr())
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	c, err := client.ConnectWithDialer(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", port), "app", "secret", "", d.DialContext)
	if err != nil {
		t.Fatalf("login from 127.0.0.2: %v", err)
	}
	c.Close()
}

func TestLoginBucketRefills(t *testing.T) {
	l := newConnLimiter(Limits{LoginFailureBurst: 2, LoginFailureInterval: 50 * time.Millisecond}.withDefaults())
	l.loginFailed("a")
	l.loginFailed("a")
	if l.blocked("a") == nil {
		t.Fatal("after 2 failures with a burst of 2: not blocked")
	}
	time.Sleep(60 * time.Millisecond)
	if err := l.blocked("a"); err != nil {
		t.Fatalf("after one interval: %v, want one more try", err)
	}
	time.Sleep(100 * time.Millisecond)
	l.blocked("a")
	if n := len(l.failures); n != 0 {
		t.Errorf("a refilled bucket is kept: %d entries, want 0", n)
	}
}
